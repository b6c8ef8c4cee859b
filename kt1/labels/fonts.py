"""The label font, shipped inside the package: DejaVu Sans Condensed (regular and bold).

Printer code pages cannot be trusted with Vietnamese, so every letter on a label is drawn
into the image (thermal) or embedded in the PDF (A4 sheet) from these files. The licence is
next to them in ``kt1/static/fonts/LICENSE-DejaVu.txt``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
REGULAR = FONT_DIR / "DejaVuSansCondensed.ttf"
BOLD = FONT_DIR / "DejaVuSansCondensed-Bold.ttf"
LICENSE = FONT_DIR / "LICENSE-DejaVu.txt"

#: Names under which the fonts are registered with reportlab.
PDF_REGULAR, PDF_BOLD = "KT1Sans", "KT1Sans-Bold"


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The shipped font at ``size`` dots (em height), for Pillow."""
    return ImageFont.truetype(str(BOLD if bold else REGULAR), size)


@lru_cache(maxsize=1)
def register_pdf_fonts() -> tuple[str, str]:
    """Register the shipped fonts with reportlab once; returns (regular, bold) names."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(PDF_REGULAR, str(REGULAR)))
    pdfmetrics.registerFont(TTFont(PDF_BOLD, str(BOLD)))
    return PDF_REGULAR, PDF_BOLD
