"""Read barcodes the way a counter scanner would: with zbar, on a thickened image."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

from tests.conftest import need

HAVE_PYZBAR = importlib.util.find_spec("pyzbar") is not None


def zbar_available() -> bool:
    if shutil.which("zbarimg"):
        return True
    if not HAVE_PYZBAR:
        return False
    try:
        from pyzbar import pyzbar  # noqa: F401  (loads libzbar)
    except ImportError:
        return False
    return True


def need_zbar() -> None:
    need(zbar_available(), "zbar is not installed (apt-get install zbar-tools libzbar0)")


def thicken(image: Image.Image, dots: int = 1) -> Image.Image:
    """Spread every black run by ``dots`` to the right and downwards, as a thermal head does."""
    page = image.convert("L")
    out = page
    for dx, dy in ((dots, 0), (0, dots)):
        shifted = Image.new("L", page.size, 255)
        shifted.paste(out.crop((0, 0, page.width - dx, page.height - dy)), (dx, dy))
        out = ImageChops.darker(out, shifted)
    return out.convert("1", dither=Image.Dither.NONE)


def decode(image: Image.Image) -> list[tuple[str, str]]:
    """(symbology, data) of every Code 128 and QR code zbar finds in ``image``."""
    if shutil.which("zbarimg"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "label.png"
            image.convert("L").save(path)
            done = subprocess.run(
                ["zbarimg", "--quiet", "-Sdisable", "-Scode128.enable",
                 "-Sqrcode.enable", "--xml", str(path)],
                capture_output=True, text=True, timeout=30, check=False)
        return [(kind, data) for kind, data in re.findall(
            r"<symbol type='([^']+)'[^>]*>.*?<data><!\[CDATA\[(.*?)\]\]></data>",
            done.stdout, re.S)]
    from pyzbar.pyzbar import ZBarSymbol
    from pyzbar.pyzbar import decode as zdecode

    found = zdecode(image.convert("L"), symbols=[ZBarSymbol.CODE128, ZBarSymbol.QRCODE])
    return [("QR-Code" if s.type == "QRCODE" else "CODE-128", s.data.decode()) for s in found]


def pdf_pages(pdf: bytes, dpi: int) -> list[Image.Image]:
    """Rasterise every page of ``pdf`` at ``dpi`` (PDFium, from the pypdfium2 wheel)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72, grayscale=True).to_pil() for page in document]
    finally:
        document.close()
