"""ESC/POS: a python-escpos profile decides what the printer draws itself.

A profile that declares native Code 128 (``barcodeB``) gets the ``GS k`` command, one that
declares ``qrCode`` gets ``GS ( k``; on the cheap 58 mm profiles that declare neither, the
strips drawn by the label renderer (bars snapped to whole dots) are sent as raster instead,
because python-escpos' own fallback image does not scan (see docs/printing.md).
Images go out as ``GS v 0`` raster in fragments of at most 900 rows.
"""

from __future__ import annotations

from escpos.capabilities import Profile, get_profile
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy

from printers.document import Code128, Document, QRCode, Raster
from printers.errors import PrinterConfigError, PrinterUnavailable

ESC, GS, DLE, EOT = b"\x1b", b"\x1d", b"\x10", b"\x04"
INIT = ESC + b"@"
ALIGN_LEFT, ALIGN_CENTER = ESC + b"a\x00", ESC + b"a\x01"
STATUS_REQUEST = DLE + EOT + b"\x01"  # real-time printer status (DLE EOT 1)
FRAGMENT_ROWS = 900  # GS v 0 and GS ( L lengths overflow beyond this at 576 dots
_INVERT = bytes(255 - b for b in range(256))

BARCODE_MODES = ("auto", "native", "drawn")


def load_profile(name: str | None) -> Profile:
    """The python-escpos profile ``name`` (``default`` when none is given)."""
    try:
        return get_profile(name or "default")
    except KeyError:
        raise PrinterConfigError(
            f"unknown python-escpos profile {name!r} (e.g. TM-T20II, POS-5890, ZJ-5870)"
        ) from None


def profile_width(profile: Profile) -> int | None:
    """Printable width in dots the profile declares, or None when it does not say."""
    try:
        return int(profile.profile_data["media"]["width"]["pixels"])
    except (KeyError, TypeError, ValueError):
        return None


def raster_bytes(image: object) -> bytes:
    """``GS v 0`` payload of a mode-1 strip whose width is a multiple of 8 (1 = black dot)."""
    return image.tobytes().translate(_INVERT)  # type: ignore[attr-defined]


def code128_codes(data: str) -> list[int]:
    """Code 128 symbol values for ``data`` (start code included, check and stop excluded),
    with the shortest mix of code sets, as python-barcode computes them."""
    from barcode.codex import Code128 as _Code128

    return list(_Code128(data).encoded)


def escpos_code128_data(data: str) -> bytes:
    """The ``GS k`` (m=73) data for ``data``: ``{A``/``{B``/``{C`` code-set switches, set C as
    raw byte values 0-99, so the printer builds the same compact symbol we draw."""
    out = bytearray()
    charset = ""
    for value in code128_codes(data):
        if value in (103, 104, 105):  # start A, B, C
            charset = "ABC"[value - 103]
            out += b"{" + charset.encode()
        elif charset == "C":
            if value < 100:
                out.append(value)  # one symbol value = two digits
            elif value in (100, 101):
                charset = "B" if value == 100 else "A"
                out += b"{" + charset.encode()
            else:
                raise ValueError(f"unsupported Code 128 value {value} in set C")
        elif value == 99:
            charset = "C"
            out += b"{C"
        elif (charset, value) in (("A", 100), ("B", 101)):
            charset = "B" if charset == "A" else "A"
            out += b"{" + charset.encode()
        elif value >= 96:
            raise ValueError(f"unsupported Code 128 function value {value}")
        elif charset == "B":
            char = value + 32
            out += b"{{" if char == ord("{") else bytes([char])
        else:  # set A: upper case and control characters
            out.append(value + 32 if value < 64 else value - 64)
    return bytes(out)


class EscposEncoder:
    """Turns a :class:`Document` into the bytes an ESC/POS printer with ``profile`` expects."""

    language = "escpos"
    status_request = STATUS_REQUEST

    def __init__(self, profile: str | None, width: int, barcodes: str = "auto") -> None:
        if barcodes not in BARCODE_MODES:
            raise PrinterConfigError(f"barcodes must be one of {', '.join(BARCODE_MODES)}")
        self.profile_name = profile or "default"
        self.profile = load_profile(profile)
        self.width = width
        dots = profile_width(self.profile)
        if dots is not None and width > dots:
            raise PrinterConfigError(
                f"profile {self.profile_name} prints {dots} dots; a {width}-dot label does not fit")
        if not self.profile.supports("bitImageRaster"):
            raise PrinterConfigError(f"profile {self.profile_name} cannot print raster images")
        supports_bar = bool(self.profile.supports("barcodeB"))
        supports_qr = bool(self.profile.supports("qrCode"))
        if barcodes == "native" and not (supports_bar and supports_qr):
            raise PrinterConfigError(
                f"profile {self.profile_name} has no native Code 128 and QR; use barcodes=drawn")
        self.native_code128 = barcodes != "drawn" and supports_bar
        self.native_qr = barcodes != "drawn" and supports_qr

    def describe(self) -> str:
        return (f"ESC/POS {self.profile_name}, Code 128 "
                f"{'native' if self.native_code128 else 'drawn'}, QR "
                f"{'native' if self.native_qr else 'drawn'}")

    def encode(self, doc: Document) -> bytes:
        if doc.width > self.width:
            raise PrinterConfigError(
                f"the label is {doc.width} dots wide, the printer {self.width}")
        out = Dummy(profile=self.profile_name)
        out._raw(INIT)
        for block in doc.blocks:
            if isinstance(block, Raster):
                self._image(out, block.image)
            elif isinstance(block, Code128):
                if self.native_code128 and block.modules * block.module <= self.width:
                    self._code128(out, block)
                else:
                    self._image(out, block.drawn)
            elif isinstance(block, QRCode):
                if self.native_qr and 1 <= block.module <= 16:
                    self._qr(out, block)
                else:
                    self._image(out, block.drawn)
        out.cut()  # feeds past the tear bar; cuts only where the profile has a cutter
        return out.output

    def _image(self, out: Dummy, image: object) -> None:
        width, height = image.size  # type: ignore[attr-defined]
        for top in range(0, height, FRAGMENT_ROWS):
            rows = min(FRAGMENT_ROWS, height - top)
            part = image.crop((0, top, width, top + rows))  # type: ignore[attr-defined]
            header = GS + b"v0\x00" + (width // 8).to_bytes(2, "little") + rows.to_bytes(
                2, "little")
            out._raw(header + raster_bytes(part))

    def _code128(self, out: Dummy, block: Code128) -> None:
        data = escpos_code128_data(block.data)
        quiet = (block.strip_height - block.height) // 2
        out._raw(ALIGN_CENTER)
        if quiet > 0:
            out._raw(ESC + b"J" + bytes([min(quiet, 255)]))  # feed the top margin, in dots
        out._raw(GS + b"h" + bytes([max(1, min(block.height, 255))]))
        out._raw(GS + b"w" + bytes([block.module]))
        out._raw(GS + b"H\x00")  # no human-readable line: the label prints the number itself
        out._raw(GS + b"kI" + bytes([len(data)]) + data)  # m=73: Code 128, counted data
        if quiet > 0:
            out._raw(ESC + b"J" + bytes([min(quiet, 255)]))
        out._raw(ALIGN_LEFT)

    def _qr(self, out: Dummy, block: QRCode) -> None:
        out._raw(ALIGN_CENTER)
        out.qr(block.data, ec=QR_ECLEVEL_M, size=block.module, native=True)
        out._raw(ALIGN_LEFT)

    def check_status(self, answer: bytes) -> None:
        """Judge the answer to ``DLE EOT 1``: one byte, fixed bits 1 and 4 set, bit 3 offline."""
        if not answer:
            raise PrinterUnavailable("the printer closed the connection instead of answering",
                                     stage="status")
        status = answer[-1]
        if status & 0x93 != 0x12:
            raise PrinterUnavailable(f"the printer sent an unexpected status byte {status:#04x}",
                                     stage="status")
        if status & 0x08:
            raise PrinterUnavailable("the printer reports it is offline (cover open, paper out "
                                     "or error)", stage="status")

    @staticmethod
    def answer_complete(answer: bytes) -> bool:
        return len(answer) >= 1
