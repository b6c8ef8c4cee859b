"""Pick a driver by URI.

============================================  =========================================
``escpos+tcp://host:9100``                    ESC/POS over raw TCP (port 9100 by default)
``escpos+usb://04b8:0202``                    ESC/POS over USB, vendor:product (pyusb)
``escpos+serial:///dev/ttyUSB0?baudrate=9600`` ESC/POS over a serial line (pyserial)
``escpos+file:///dev/usb/lp0``                ESC/POS written to a device file
``cups://QUEUE`` (``escpos+cups://``)         ESC/POS sent raw to a CUPS queue (``lp``)
``zpl+tcp://host:9100``                       ZPL II (Zebra); ``zpl+file``, ``zpl+usb``... too
``pdf:///path``                               a PDF at the label's true size, one per job
``memory://NAME`` (``escpos+memory``)         in-memory capture (tests, dry runs)
============================================  =========================================

Query parameters: ``timeout`` (connect, seconds), ``write_timeout``, ``status=on|off`` (ask the
printer for its status before and after each job, on by default on two-way links),
``barcodes=auto|native|drawn`` (``auto``: the python-escpos profile decides), ``baudrate``,
``in_ep``/``out_ep`` (USB endpoints), ``server`` (CUPS server).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from printers.base import EncodedPrinter, Encoder, LabelPrinter, PdfPrinter
from printers.errors import PrinterConfigError
from printers.escpos import EscposEncoder
from printers.transports import (
    CupsTransport,
    FileTransport,
    MemoryTransport,
    SerialTransport,
    TcpTransport,
    Transport,
    UsbTransport,
)
from printers.zpl import ZplEncoder

DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_WRITE_TIMEOUT = 5.0
DEFAULT_PORT = 9100

_ALIASES = {"cups": "escpos+cups", "memory": "escpos+memory"}
_KNOWN_PARAMS = {"timeout", "write_timeout", "status", "barcodes", "baudrate", "in_ep",
                 "out_ep", "server"}


@dataclass(frozen=True)
class PrinterURI:
    """A parsed printer URI."""

    uri: str
    encoding: str  # escpos, zpl, pdf
    transport: str  # tcp, usb, serial, file, cups, memory, pdf
    host: str = ""
    port: int = DEFAULT_PORT
    path: str = ""
    params: dict[str, str] = field(default_factory=dict)

    def number(self, key: str, default: float) -> float:
        raw = self.params.get(key)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise PrinterConfigError(f"{key}={raw!r} is not a number") from None
        if value <= 0:
            raise PrinterConfigError(f"{key} must be positive")
        return value

    def flag(self, key: str, default: bool) -> bool:
        raw = self.params.get(key)
        if raw is None:
            return default
        if raw.lower() in {"1", "on", "yes", "true"}:
            return True
        if raw.lower() in {"0", "off", "no", "false"}:
            return False
        raise PrinterConfigError(f"{key} must be on or off")


def parse_uri(uri: str) -> PrinterURI:
    """Split a printer URI and check its scheme and parameters (no connection is made)."""
    parts = urlsplit(uri.strip())
    scheme = _ALIASES.get(parts.scheme.lower(), parts.scheme.lower())
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(params) - _KNOWN_PARAMS
    if unknown:
        raise PrinterConfigError(f"unknown printer URI parameter {sorted(unknown)[0]!r}")
    if scheme == "pdf":
        path = unquote(parts.path)
        if not path:
            raise PrinterConfigError("pdf:///path needs a file or directory path")
        return PrinterURI(uri, "pdf", "pdf", path=path, params=params)
    encoding, _, transport = scheme.partition("+")
    if encoding not in ENCODERS or transport not in TRANSPORT_DRIVERS:
        raise PrinterConfigError(
            f"unknown printer URI scheme {parts.scheme!r}: use escpos+tcp, escpos+usb, "
            "escpos+serial, escpos+file, cups, zpl+tcp, pdf or memory")
    if transport == "tcp":
        if not parts.hostname:
            raise PrinterConfigError(f"{scheme}://host:port needs a host")
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise PrinterConfigError("the port must be a number") from None
        return PrinterURI(uri, encoding, transport, host=parts.hostname, port=port,
                          params=params)
    if transport in ("usb", "cups", "memory"):
        name = unquote(parts.netloc or parts.path.lstrip("/"))
        if not name:
            raise PrinterConfigError(f"{scheme}:// needs a "
                                     f"{'VID:PID' if transport == 'usb' else 'name'}")
        return PrinterURI(uri, encoding, transport, host=name, params=params)
    path = unquote(parts.path)
    if not path:
        raise PrinterConfigError(f"{scheme}:///path needs a device path")
    return PrinterURI(uri, encoding, transport, path=path, params=params)


def _usb_ids(spec: str) -> tuple[int, int]:
    try:
        vendor, product = (int(x, 16) for x in spec.split(":"))
    except ValueError:
        raise PrinterConfigError(f"USB printer {spec!r} must be VID:PID in hex, e.g. 04b8:0202"
                                 ) from None
    return vendor, product


def _int_param(parsed: PrinterURI, key: str) -> int | None:
    raw = parsed.params.get(key)
    if raw is None:
        return None
    try:
        return int(raw, 0)
    except ValueError:
        raise PrinterConfigError(f"{key}={raw!r} is not a whole number") from None


def _tcp(p: PrinterURI, connect: float, write: float) -> Transport:
    return TcpTransport(p.host, p.port, connect, write)


def _usb(p: PrinterURI, connect: float, write: float) -> Transport:
    vendor, product = _usb_ids(p.host)
    return UsbTransport(vendor, product, write, _int_param(p, "in_ep"), _int_param(p, "out_ep"))


def _serial(p: PrinterURI, connect: float, write: float) -> Transport:
    return SerialTransport(p.path, _int_param(p, "baudrate") or 9600, write)


def _file(p: PrinterURI, connect: float, write: float) -> Transport:
    return FileTransport(p.path)


def _cups(p: PrinterURI, connect: float, write: float) -> Transport:
    return CupsTransport(p.host, p.params.get("server"), connect + write)


def _memory(p: PrinterURI, connect: float, write: float) -> Transport:
    return MemoryTransport(p.host)


#: Transport drivers by the part of the URI scheme after ``+``.
TRANSPORT_DRIVERS: dict[str, Callable[[PrinterURI, float, float], Transport]] = {
    "tcp": _tcp, "usb": _usb, "serial": _serial, "file": _file, "cups": _cups,
    "memory": _memory,
}

#: Page-description encoders by the part of the URI scheme before ``+``.
ENCODERS: dict[str, Callable[[str | None, int, str], Encoder]] = {
    "escpos": lambda profile, width, barcodes: EscposEncoder(profile, width, barcodes),
    "zpl": lambda profile, width, barcodes: ZplEncoder(width, barcodes),
}


def open_printer(uri: str, *, profile: str | None = None, width: int = 576,
                 connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 write_timeout: float = DEFAULT_WRITE_TIMEOUT) -> LabelPrinter:
    """The printer behind ``uri`` for labels ``width`` dots wide.

    Nothing is opened yet: each :meth:`LabelPrinter.print` connects afresh. A wrong URI,
    profile or width raises :class:`PrinterConfigError` here, at once.
    """
    parsed = parse_uri(uri)
    if width <= 0 or width % 8:
        raise PrinterConfigError("the label width must be a positive multiple of 8 dots")
    if parsed.encoding == "pdf":
        return PdfPrinter(uri, parsed.path, width)
    connect = parsed.number("timeout", connect_timeout)
    write = parsed.number("write_timeout", write_timeout)
    barcodes = parsed.params.get("barcodes", "auto")
    encoder = ENCODERS[parsed.encoding](profile, width, barcodes)
    driver = TRANSPORT_DRIVERS[parsed.transport]
    if parsed.transport == "usb":
        _usb_ids(parsed.host)  # a malformed VID:PID is a configuration error, found now
    return EncodedPrinter(uri, width, encoder, lambda: driver(parsed, connect, write),
                          check_status=parsed.flag("status", True), status_timeout=write)
