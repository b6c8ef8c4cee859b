"""A fake raw-TCP (port 9100 style) printer on loopback, and decoders for what it receives.

``FakePrinter`` runs a real listening socket in a thread and keeps the bytes of every
connection. It speaks just enough ESC/POS (or ZPL) to answer status requests at the point
in the stream where a real printer would: after every byte sent before them. Modes:

* ``online``: reads everything, answers ``DLE EOT n`` (ESC/POS) or ``~HS`` (ZPL);
* ``closed``: nothing listens on the port (connection refused), like a printer switched off;
* ``black_hole``: accepts connections and never reads a byte;
* ``reset``: like ``online``, but resets the connection (RST) after ``reset_after`` bytes.

``parse_escpos`` rebuilds what an ESC/POS printer would print: the ``GS v 0`` raster rows
stacked into one image, and the native barcode (``GS k``) and QR (``GS ( k``) commands with
their data, which a test cannot rasterise but can read.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from PIL import Image

MODES = ("online", "closed", "black_hole", "reset")
STATUS_ONLINE = 0x12  # DLE EOT answer: fixed bits 1 and 4, nothing wrong
ZPL_HOST_STATUS = (b"\x02030,0,0,1245,000,0,0,0,000,0,0,0\x03\r\n"
                   b"\x02001,0,0,0,1,2,4,0,00000000,1,000\x03\r\n"
                   b"\x021234,0\x03\r\n")


# --------------------------------------------------------------------------- ESC/POS parsing


class Incomplete(Exception):
    """The buffer ends inside a command: wait for more bytes."""


@dataclass
class Command:
    name: str
    args: bytes = b""
    data: bytes = b""
    image: Image.Image | None = None


def _need(buf: bytes | bytearray, end: int) -> None:
    if len(buf) < end:
        raise Incomplete


def next_command(buf: bytes | bytearray, i: int) -> tuple[Command, int]:
    """Parse one ESC/POS command (or one text byte) at ``buf[i]``; returns it and the end."""
    b = buf[i]
    if b == 0x10:  # DLE
        _need(buf, i + 3)
        if buf[i + 1] == 0x04:
            return Command("status", bytes(buf[i + 2:i + 3])), i + 3
        return Command("dle", bytes(buf[i + 1:i + 3])), i + 3
    if b == 0x1B:  # ESC
        _need(buf, i + 2)
        op = buf[i + 1]
        if op == ord("@"):
            return Command("init"), i + 2
        if op in b"adJE!-MtRG{VU3e":
            _need(buf, i + 3)
            return Command(f"esc_{chr(op)}", bytes(buf[i + 2:i + 3])), i + 3
        if op == ord("2"):
            return Command("esc_2"), i + 2
        return Command(f"esc_{op:#x}"), i + 2
    if b == 0x1D:  # GS
        _need(buf, i + 2)
        op = buf[i + 1]
        if op == ord("v"):  # GS v 0 m xL xH yL yH d1...dk
            _need(buf, i + 8)
            width_bytes, height = struct.unpack("<HH", bytes(buf[i + 4:i + 8]))
            end = i + 8 + width_bytes * height
            _need(buf, end)
            data = bytes(buf[i + 8:end])
            inverted = bytes(255 - x for x in data)  # GS v 0: 1 = black; mode 1: 1 = white
            image = Image.frombytes("1", (width_bytes * 8, height), inverted)
            return Command("raster", bytes(buf[i + 3:i + 4]), data, image), end
        if op == ord("(") :  # GS ( k / GS ( L: pL pH then that many bytes
            _need(buf, i + 5)
            length = buf[i + 3] | buf[i + 4] << 8
            end = i + 5 + length
            _need(buf, end)
            return Command(f"gs_({chr(buf[i + 2])}", data=bytes(buf[i + 5:end])), end
        if op == ord("k"):  # GS k m ...
            _need(buf, i + 3)
            m = buf[i + 2]
            if m <= 6:
                end = bytes(buf).find(b"\x00", i + 3)
                if end < 0:
                    raise Incomplete
                return Command("barcode", bytes([m]), bytes(buf[i + 3:end])), end + 1
            _need(buf, i + 4)
            n = buf[i + 3]
            _need(buf, i + 4 + n)
            return Command("barcode", bytes([m]), bytes(buf[i + 4:i + 4 + n])), i + 4 + n
        if op == ord("V"):
            _need(buf, i + 3)
            if buf[i + 2] in (65, 66):
                _need(buf, i + 4)
                return Command("cut", bytes(buf[i + 2:i + 4])), i + 4
            return Command("cut", bytes(buf[i + 2:i + 3])), i + 3
        if op in b"hwHf!Ba":
            _need(buf, i + 3)
            return Command(f"gs_{chr(op)}", bytes(buf[i + 2:i + 3])), i + 3
        return Command(f"gs_{op:#x}"), i + 2
    return Command("text", bytes([b])), i + 1


def commands(data: bytes) -> list[Command]:
    out, i = [], 0
    while i < len(data):
        cmd, i = next_command(data, i)
        out.append(cmd)
    return out


def decode_code128_escpos(data: bytes) -> str:
    """Text encoded by ``GS k`` m=73 data: ``{A``/``{B``/``{C`` switch code sets, set C
    takes raw values 0-99 as two digits."""
    out, charset, i = [], "B", 0
    while i < len(data):
        if data[i] == ord("{") and i + 1 < len(data):
            nxt = chr(data[i + 1])
            if nxt in "ABC":
                charset, i = nxt, i + 2
                continue
            if nxt == "{":
                out.append("{")
                i += 2
                continue
            raise ValueError(f"function code {{{nxt} in barcode data")
        if charset == "C":
            out.append(f"{data[i]:02d}")
        else:
            out.append(chr(data[i]))
        i += 1
    return "".join(out)


@dataclass
class Printout:
    """What an ESC/POS printer made of one connection's bytes."""

    image: Image.Image | None  # the raster rows stacked (native barcodes are not in it)
    code128: list[str] = field(default_factory=list)  # text of every native Code 128
    qr: list[str] = field(default_factory=list)  # data of every native QR code
    barcode_settings: list[dict[str, int]] = field(default_factory=list)
    cut: bool = False
    ended: bool = False  # the job's last command (cut, or feed on a printer without cutter)
    status_requests: int = 0

    @property
    def printed_anything(self) -> bool:
        return self.image is not None or bool(self.code128) or bool(self.qr)


def parse_escpos(data: bytes) -> Printout:
    """Rebuild what a printer does with ``data``; raises if the job is cut off mid-command."""
    rasters: list[Image.Image] = []
    out = Printout(image=None)
    settings: dict[str, int] = {}
    for cmd in commands(data):
        if cmd.name == "raster" and cmd.image is not None:
            rasters.append(cmd.image)
        elif cmd.name in ("gs_h", "gs_w", "gs_H"):
            settings[cmd.name] = cmd.args[0]
        elif cmd.name == "barcode":
            if cmd.args[0] != 73:
                raise AssertionError(f"unexpected barcode type {cmd.args[0]}")
            out.code128.append(decode_code128_escpos(cmd.data))
            out.barcode_settings.append(dict(settings))
        elif cmd.name == "gs_(k" and cmd.data[:2] == b"1P":  # cn=49 fn=80: store QR data
            out.qr.append(cmd.data[3:].decode())
        elif cmd.name == "cut":
            out.cut = True
        elif cmd.name == "status":
            out.status_requests += 1
        if cmd.name != "status":
            out.ended = cmd.name in ("cut", "esc_d")
    if rasters:
        width = max(r.width for r in rasters)
        page = Image.new("1", (width, sum(r.height for r in rasters)), 1)
        y = 0
        for r in rasters:
            page.paste(r, (0, y))
            y += r.height
        out.image = page
    return out


# --------------------------------------------------------------------------- ZPL parsing


@dataclass
class ZplLabel:
    code128: list[tuple[int, int, str, str]]  # (module, height, mode, data)
    qr: list[tuple[int, str]]  # (magnification, data after the "MA," prefix)
    image: Image.Image | None  # ^GF fields placed on the page


def parse_zpl(data: bytes) -> ZplLabel:
    text = data.decode("ascii")
    if "^XA" not in text or "^XZ" not in text:
        raise AssertionError("not a complete ZPL label format")
    code128 = [(int(m), int(h), mode, fd) for m, h, mode, fd in re.findall(
        r"\^BY(\d+)\^BCN,(\d+),N,N,N,([NUAD])\^FD([^\^]*)\^FS", text)]
    qr = [(int(mag), fd) for mag, fd in re.findall(r"\^BQN,2,(\d+)\^FDMA,([^\^]*)\^FS", text)]
    width = int(re.search(r"\^PW(\d+)", text).group(1))  # type: ignore[union-attr]
    height = int(re.search(r"\^LL(\d+)", text).group(1))  # type: ignore[union-attr]
    fields = re.findall(r"\^FO(\d+),(\d+)\^GFA,(\d+),(\d+),(\d+),([0-9A-F]+)\^FS", text)
    image = None
    if fields:
        image = Image.new("1", (width, height), 1)
        for x, y, total, _total, row, hexdata in fields:
            raw = bytes.fromhex(hexdata)
            assert len(raw) == int(total)
            rows = int(total) // int(row)
            strip = Image.frombytes("1", (int(row) * 8, rows), bytes(255 - b for b in raw))
            image.paste(strip, (int(x), int(y)))
    return ZplLabel(code128, qr, image)


# --------------------------------------------------------------------------- the fake printer


class FakePrinter:
    """A raw-TCP printer on 127.0.0.1 that records every connection's bytes."""

    def __init__(self, language: str = "escpos", mode: str = "online",
                 reset_after: int = 0) -> None:
        assert language in ("escpos", "zpl") and mode in MODES
        self.language = language
        self.reset_after = reset_after
        self.status_byte = STATUS_ONLINE  # 0x1A: offline (cover open, paper out)
        self.captures: list[bytes] = []  # one entry per finished connection
        self.connections = 0
        self._active = 0
        self._mode = mode
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self._listen()

    # -- lifecycle

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        if self._mode == "closed":
            sock.close()  # bound once only to reserve a port number
            return
        sock.listen(16)
        sock.settimeout(0.05)
        self._listener = sock
        thread = threading.Thread(target=self._accept_loop, args=(sock,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _close_listener(self) -> None:
        sock, self._listener = self._listener, None
        if sock is not None:
            sock.close()
            time.sleep(0.06)  # let the accept loop notice

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        assert mode in MODES
        was = self._mode
        self._mode = mode
        if mode == "closed" and was != "closed":
            self._close_listener()
        elif was == "closed" and mode != "closed":
            self._listen()

    def uri(self, scheme: str | None = None, **params: object) -> str:
        scheme = scheme or ("zpl+tcp" if self.language == "zpl" else "escpos+tcp")
        query = {"timeout": 0.5, "write_timeout": 0.5, **params}
        return (f"{scheme}://127.0.0.1:{self.port}?"
                + "&".join(f"{k}={v}" for k, v in query.items()))

    def close(self) -> None:
        self._stop.set()
        self._close_listener()
        for sock in self._held:
            sock.close()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> FakePrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- serving

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stop.is_set() and self._listener is listener:
            try:
                conn, _addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with self._lock:
                self._active += 1
            thread = threading.Thread(target=self._serve, args=(conn, self._mode), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket, mode: str) -> None:
        try:
            self._serve_mode(conn, mode)
        finally:
            with self._lock:
                self._active -= 1

    def _serve_mode(self, conn: socket.socket, mode: str) -> None:
        if mode == "black_hole":
            self._held.append(conn)  # never read; closed when the test ends
            return
        self._online(conn, self.reset_after if mode == "reset" else None)

    def _online(self, conn: socket.socket, reset_after: int | None) -> None:
        conn.settimeout(5)
        buf = bytearray()
        parsed = 0
        try:
            while reset_after is None or len(buf) < reset_after:
                want = 65536 if reset_after is None else min(65536, reset_after - len(buf))
                chunk = conn.recv(want)
                if not chunk:
                    break
                buf += chunk
                parsed = self._answer(conn, buf, parsed)
        except OSError:
            pass
        finally:
            if reset_after is not None:  # drop the connection with a TCP reset (RST)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            with self._lock:
                self.captures.append(bytes(buf))

    def _answer(self, conn: socket.socket, buf: bytearray, parsed: int) -> int:
        """Answer the status requests that arrived, in stream order; returns the new offset."""
        if self.language == "zpl":
            while (hit := buf.find(b"~HS", parsed)) >= 0:
                conn.sendall(ZPL_HOST_STATUS)
                parsed = hit + 3
            return parsed
        while parsed < len(buf):
            try:
                cmd, end = next_command(buf, parsed)
            except Incomplete:
                break
            if cmd.name == "status":
                conn.sendall(bytes([self.status_byte]))
            parsed = end
        return parsed

    # -- what came out

    def settle(self, timeout: float = 3.0) -> None:
        """Wait until every connection being served has been recorded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._active == 0:
                    return
            time.sleep(0.01)

    def printouts(self) -> list[Printout]:
        """Every connection that carried a whole printable job (status-only ones skipped)."""
        self.settle()
        with self._lock:
            captures = list(self.captures)
        out = []
        for data in captures:
            try:
                printout = parse_escpos(data)
            except Incomplete:
                continue  # cut off mid-job: a real printer prints nothing usable
            if printout.printed_anything and printout.ended:
                out.append(printout)
        return out

    def zpl_labels(self) -> list[ZplLabel]:
        self.settle()
        with self._lock:
            captures = list(self.captures)
        return [parse_zpl(c) for c in captures if b"^XZ" in c]
