"""ZPL II for Zebra printers: native ``^BC`` (Code 128) and ``^BQ`` (QR), or ``^GF`` bitmaps.

Raster strips always go out as ``^GFA`` (hex) graphic fields placed at their row; barcodes
go out as ``^BC``/``^BQ`` fields centred like the drawn strip, unless the URI says
``barcodes=drawn``, in which case the drawn strips are sent as bitmaps too.
"""

from __future__ import annotations

from printers.document import Code128, Document, QRCode, Raster
from printers.errors import PrinterConfigError, PrinterUnavailable

STATUS_REQUEST = b"~HS"  # host status: three STX ... ETX lines
_STX, _ETX = 0x02, 0x03
_INVERT = bytes(255 - b for b in range(256))


def graphic_field(x: int, y: int, image: object) -> bytes:
    """``^FO x,y ^GFA`` for a mode-1 image (1 = black dot in ZPL, hex encoded)."""
    width, height = image.size  # type: ignore[attr-defined]
    row = (width + 7) // 8
    data = image.tobytes().translate(_INVERT)  # type: ignore[attr-defined]
    if width % 8:  # padding bits would print black after inverting: clear them
        mask = (0xFF << (8 - width % 8)) & 0xFF
        fixed = bytearray(data)
        for r in range(height):
            fixed[r * row + row - 1] &= mask
        data = bytes(fixed)
    total = row * height
    return (f"^FO{x},{y}^GFA,{total},{total},{row},".encode() + data.hex().upper().encode()
            + b"^FS\n")


class ZplEncoder:
    """Turns a :class:`Document` into a ZPL II label format."""

    language = "zpl"
    status_request = STATUS_REQUEST

    def __init__(self, width: int, barcodes: str = "auto") -> None:
        if barcodes not in ("auto", "native", "drawn"):
            raise PrinterConfigError("barcodes must be one of auto, native, drawn")
        self.width = width
        self.native = barcodes != "drawn"
        self.profile_name = "ZPL"

    def describe(self) -> str:
        return f"ZPL II, barcodes {'native ^BC/^BQ' if self.native else 'drawn (^GF)'}"

    def encode(self, doc: Document) -> bytes:
        if doc.width > self.width:
            raise PrinterConfigError(
                f"the label is {doc.width} dots wide, the printer {self.width}")
        out = [f"^XA\n^CI28\n^PW{doc.width}\n^LL{doc.height}\n^LH0,0\n".encode()]
        y = 0
        for block in doc.blocks:
            if isinstance(block, Raster):
                out.append(graphic_field(0, y, block.image))
                y += block.height
                continue
            if isinstance(block, Code128) and self.native and 1 <= block.module <= 10:
                x = (doc.width - block.modules * block.module) // 2
                top = y + (block.strip_height - block.height) // 2
                out.append(f"^FO{x},{top}^BY{block.module}^BCN,{block.height},N,N,N,A"
                           f"^FD{_field(block.data)}^FS\n".encode())
            elif isinstance(block, QRCode) and self.native and 1 <= block.module <= 10:
                x = (doc.width - block.size * block.module) // 2
                top = y + (block.strip_height - block.size * block.module) // 2
                out.append(f"^FO{x},{top}^BQN,2,{block.module}"
                           f"^FDMA,{_field(block.data)}^FS\n".encode())
            else:
                out.append(graphic_field(0, y, block.drawn))
            y += block.strip_height
        out.append(b"^PQ1\n^XZ\n")
        return b"".join(out)

    def check_status(self, answer: bytes) -> None:
        """Judge the answer to ``~HS``: paper out, paused or head open mean not now."""
        lines = [part.split(b"\x03")[0] for part in answer.split(b"\x02")[1:]]
        if len(lines) < 2:
            raise PrinterUnavailable("the printer sent an unreadable host status", stage="status")
        first, second = lines[0].split(b","), lines[1].split(b",")
        if len(first) > 2 and first[1] == b"1":
            raise PrinterUnavailable("the printer is out of paper", stage="status")
        if len(first) > 2 and first[2] == b"1":
            raise PrinterUnavailable("the printer is paused", stage="status")
        if len(second) > 2 and second[2] == b"1":
            raise PrinterUnavailable("the print head is open", stage="status")

    @staticmethod
    def answer_complete(answer: bytes) -> bool:
        return answer.count(bytes([_ETX])) >= 3


def _field(data: str) -> str:
    """ZPL field data: the command prefixes ^ and ~ cannot appear inside it."""
    if "^" in data or "~" in data:
        raise PrinterConfigError("barcode data may not contain ^ or ~")
    return data
