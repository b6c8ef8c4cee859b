"""How bytes reach a printer. Each transport implements only open / write / read / close.

Every transport is opened fresh for one job and closed after it: python-escpos' own
``Network`` object is unusable after a failed write, and a half-open socket must never be
reused for the next label. Connect and write timeouts are short (seconds), so a clerk hears
at once that the printer is off instead of waiting a minute.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
from abc import ABC, abstractmethod
from typing import Any

from printers.errors import PrinterConfigError, PrinterUnavailable


class Transport(ABC):
    """A byte pipe to one printer."""

    #: Whether the printer can answer (status requests need a two-way link).
    readable: bool = False

    def __init__(self) -> None:
        self.bytes_sent = 0

    @abstractmethod
    def open(self) -> None:
        """Connect; raise :class:`PrinterUnavailable` when the printer cannot be reached."""

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Send ``data`` in full or raise; ``bytes_sent`` counts what left this computer."""

    def read(self, size: int) -> bytes:
        """Read up to ``size`` bytes of the printer's answer (empty when it hung up)."""
        raise NotImplementedError

    @abstractmethod
    def close(self) -> None:
        """Release the connection; never raises."""

    def describe(self) -> str:
        return type(self).__name__


class TcpTransport(Transport):
    """A raw TCP connection (port 9100, "JetDirect"), the usual network printer."""

    readable = True

    def __init__(self, host: str, port: int, connect_timeout: float, write_timeout: float
                 ) -> None:
        super().__init__()
        self.host, self.port = host, port
        self.connect_timeout, self.write_timeout = connect_timeout, write_timeout
        self._sock: socket.socket | None = None

    def describe(self) -> str:
        return f"{self.host}:{self.port}"

    def open(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except ConnectionRefusedError as exc:
            raise PrinterUnavailable(
                f"{self.describe()} refused the connection: the printer is off or its port is "
                "closed", stage="connect") from exc
        except TimeoutError as exc:
            raise PrinterUnavailable(
                f"{self.describe()} did not answer within {self.connect_timeout:g} s: the printer "
                "is off or unreachable", stage="connect") from exc
        except OSError as exc:  # no route, unknown host name, network down
            raise PrinterUnavailable(
                f"cannot reach {self.describe()}: {exc.strerror or exc}", stage="connect"
            ) from exc
        sock.settimeout(self.write_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise RuntimeError("transport is not open")
        return self._sock

    def write(self, data: bytes) -> None:
        sock = self._socket()
        view = memoryview(data)
        try:
            # send() in slices so that bytes_sent says how far a failed job got
            while view:
                n = sock.send(view[:65536])
                self.bytes_sent += n
                view = view[n:]
        except TimeoutError as exc:
            raise PrinterUnavailable(
                f"{self.describe()} stopped reading for {self.write_timeout:g} s (it accepts the "
                "connection but takes no data)", stage="write", bytes_sent=self.bytes_sent
            ) from exc
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
            raise PrinterUnavailable(
                f"{self.describe()} reset the connection", stage="write",
                bytes_sent=self.bytes_sent) from exc
        except OSError as exc:
            raise PrinterUnavailable(
                f"writing to {self.describe()} failed: {exc.strerror or exc}", stage="write",
                bytes_sent=self.bytes_sent) from exc

    def read(self, size: int) -> bytes:
        sock = self._socket()
        try:
            return sock.recv(size)
        except TimeoutError as exc:
            raise PrinterUnavailable(
                f"{self.describe()} did not answer a status request within "
                f"{self.write_timeout:g} s (it accepts the connection but does not read)",
                stage="status", bytes_sent=self.bytes_sent) from exc
        except (ConnectionResetError, ConnectionAbortedError) as exc:
            raise PrinterUnavailable(
                f"{self.describe()} reset the connection", stage="status",
                bytes_sent=self.bytes_sent) from exc

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


class FileTransport(Transport):
    """A device file such as ``/dev/usb/lp0`` (or any file: it is opened for appending)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self._fd: int | None = None

    def describe(self) -> str:
        return self.path

    def open(self) -> None:
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise PrinterUnavailable(
                f"cannot open {self.path}: {exc.strerror or exc} (is the printer plugged in "
                "and switched on?)", stage="connect") from exc

    def write(self, data: bytes) -> None:
        if self._fd is None:
            raise RuntimeError("transport is not open")
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                self.bytes_sent += n
                view = view[n:]
        except OSError as exc:
            raise PrinterUnavailable(f"writing to {self.path} failed: {exc.strerror or exc}",
                                     stage="write", bytes_sent=self.bytes_sent) from exc

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


class _EscposDevice(Transport):
    """Borrow a python-escpos printer class as a plain byte pipe (USB, serial)."""

    readable = True

    def __init__(self) -> None:
        super().__init__()
        self._dev: Any = None

    def _make(self) -> Any:
        raise NotImplementedError

    def _errors(self) -> tuple[type[BaseException], ...]:
        from escpos.exceptions import DeviceNotFoundError

        return (DeviceNotFoundError, OSError, TimeoutError)

    def open(self) -> None:
        dev = self._make()
        try:
            dev.open()
        except self._errors() as exc:
            raise PrinterUnavailable(f"{self.describe()}: {exc}", stage="connect") from exc
        self._dev = dev

    def write(self, data: bytes) -> None:
        try:
            self._dev._raw(data)
        except self._errors() as exc:
            raise PrinterUnavailable(f"{self.describe()}: {exc}", stage="write",
                                     bytes_sent=self.bytes_sent) from exc
        self.bytes_sent += len(data)

    def read(self, size: int) -> bytes:
        try:
            return bytes(self._dev._read())[:size]
        except self._errors() as exc:
            raise PrinterUnavailable(f"{self.describe()}: {exc}", stage="status",
                                     bytes_sent=self.bytes_sent) from exc

    def close(self) -> None:
        dev, self._dev = self._dev, None
        if dev is not None:
            # closing a dead device must not hide the error that killed it
            with contextlib.suppress(Exception):
                dev.close()


class UsbTransport(_EscposDevice):
    """A USB printer by vendor and product id (python-escpos ``Usb``, needs pyusb)."""

    def __init__(self, vendor: int, product: int, timeout: float,
                 in_ep: int | None = None, out_ep: int | None = None) -> None:
        super().__init__()
        self.vendor, self.product, self.timeout = vendor, product, timeout
        self.in_ep, self.out_ep = in_ep, out_ep

    def describe(self) -> str:
        return f"USB {self.vendor:04x}:{self.product:04x}"

    def _make(self) -> Any:
        try:
            import usb.core  # noqa: F401
            from escpos.printer import Usb
        except ImportError as exc:
            raise PrinterConfigError("USB printing needs pyusb: pip install pyusb") from exc
        kwargs: dict[str, Any] = {"timeout": int(self.timeout * 1000)}
        if self.in_ep is not None:
            kwargs["in_ep"] = self.in_ep
        if self.out_ep is not None:
            kwargs["out_ep"] = self.out_ep
        return Usb(self.vendor, self.product, **kwargs)

    def _errors(self) -> tuple[type[BaseException], ...]:
        import usb.core
        from escpos.exceptions import USBNotFoundError

        return (*super()._errors(), USBNotFoundError, usb.core.USBError)


class SerialTransport(_EscposDevice):
    """A serial printer (python-escpos ``Serial``, needs pyserial)."""

    def __init__(self, device: str, baudrate: int, timeout: float) -> None:
        super().__init__()
        self.device, self.baudrate, self.timeout = device, baudrate, timeout

    def describe(self) -> str:
        return f"{self.device} at {self.baudrate} baud"

    def _make(self) -> Any:
        try:
            import serial  # noqa: F401
            from escpos.printer import Serial
        except ImportError as exc:
            raise PrinterConfigError("serial printing needs pyserial: pip install pyserial"
                                     ) from exc
        return Serial(devfile=self.device, baudrate=self.baudrate, timeout=self.timeout)

    def _errors(self) -> tuple[type[BaseException], ...]:
        import serial

        return (*super()._errors(), serial.SerialException)


class CupsTransport(Transport):
    """A CUPS queue, fed raw bytes through the ``lp`` client (the spooler then owns the job)."""

    def __init__(self, queue: str, server: str | None, timeout: float) -> None:
        super().__init__()
        self.queue, self.server, self.timeout = queue, server, timeout
        self.title = "kt1"

    def describe(self) -> str:
        return f"CUPS queue {self.queue}" + (f" on {self.server}" if self.server else "")

    def open(self) -> None:
        if shutil.which("lp") is None:
            raise PrinterConfigError("the CUPS client `lp` is not installed (cups-client)")

    def write(self, data: bytes) -> None:
        lp = shutil.which("lp") or "lp"
        args = [lp, "-d", self.queue, "-o", "raw", "-t", self.title]
        if self.server:
            args[1:1] = ["-h", self.server]
        try:
            done = subprocess.run(args, input=data, capture_output=True,  # noqa: S603
                                  timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PrinterUnavailable(f"{self.describe()} did not accept the job within "
                                     f"{self.timeout:g} s", stage="spool") from exc
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise PrinterUnavailable(
                f"{self.describe()} refused the job: {reason[0] if reason else done.returncode}",
                stage="spool")
        self.bytes_sent += len(data)

    def close(self) -> None:
        pass


#: The in-memory capture driver's store: printer name -> one bytes object per job.
MEMORY: dict[str, list[bytes]] = {}
_MEMORY_LOCK = threading.Lock()


class MemoryTransport(Transport):
    """Keeps every job's bytes in :data:`MEMORY` (tests, dry runs, ``kt1 printer test``)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self._buffer = bytearray()

    def describe(self) -> str:
        return f"memory:{self.name}"

    def open(self) -> None:
        self._buffer.clear()

    def write(self, data: bytes) -> None:
        self._buffer += data
        self.bytes_sent += len(data)

    def close(self) -> None:
        if self._buffer:
            with _MEMORY_LOCK:
                MEMORY.setdefault(self.name, []).append(bytes(self._buffer))
            self._buffer.clear()


def captured(name: str) -> list[bytes]:
    """The jobs the in-memory printer ``name`` received, oldest first."""
    with _MEMORY_LOCK:
        return list(MEMORY.get(name, []))
