"""Code 128 and QR symbols drawn with every bar and module on whole printer dots.

python-barcode's ImageWriter hands Pillow fractional coordinates, and its bars come out
ragged enough that zbar cannot read them at 203 dpi (docs/printing.md). Here a symbol is
drawn one dot row per module and scaled by an exact whole factor with nearest-neighbour
resampling, so each bar edge falls on a dot boundary.
"""

from __future__ import annotations

from functools import lru_cache

import qrcode
from barcode.codex import Code128
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

CODE128_QUIET = 10  # modules of white on each side
QR_QUIET = 4  # modules of white around a QR code


@lru_cache(maxsize=64)
def code128_pattern(data: str) -> str:
    """The symbol as a string of ``1`` (bar) and ``0`` (space) modules, quiet zones excluded.

    python-barcode picks the shortest mix of code sets: ``KT123456785VN`` is 156 modules.
    """
    return str(Code128(data).build()[0])


@lru_cache(maxsize=64)
def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The QR modules (True = dark) for ``data`` at error-correction level M, no quiet zone."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(bool(m) for m in row) for row in code.get_matrix())


def _scaled(rows: list[bytes], width: int, module_w: int, module_h: int) -> Image.Image:
    """One byte per module (0 = black, 255 = white), scaled by whole factors to mode 1."""
    small = Image.frombytes("L", (width, len(rows)), b"".join(rows))
    big = small.resize((width * module_w, len(rows) * module_h), Image.Resampling.NEAREST)
    return big.convert("1", dither=Image.Dither.NONE)


def draw_code128(data: str, module: int, height: int) -> Image.Image:
    """The bars alone (no quiet zone), ``module`` dots per module, ``height`` dots tall."""
    if module < 1 or height < 1:
        raise ValueError("module and height must be at least one dot")
    pattern = code128_pattern(data)
    row = bytes(0 if m == "1" else 255 for m in pattern)
    return _scaled([row], len(pattern), module, height)


def draw_qr(data: str, module: int) -> Image.Image:
    """The QR modules alone (no quiet zone), ``module`` dots per module."""
    if module < 1:
        raise ValueError("module must be at least one dot")
    matrix = qr_matrix(data)
    rows = [bytes(0 if dark else 255 for dark in line) for line in matrix]
    return _scaled(rows, len(matrix), module, module)


def code128_width(data: str, module: int) -> int:
    """Dots across the symbol including both quiet zones."""
    return (len(code128_pattern(data)) + 2 * CODE128_QUIET) * module


def qr_width(data: str, module: int) -> int:
    """Dots across the QR code including its quiet zone."""
    return (len(qr_matrix(data)) + 2 * QR_QUIET) * module
