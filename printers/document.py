"""What a label printer is asked to print: a page width and a vertical stack of blocks.

A block is either a strip of pure black-and-white raster, or a barcode (Code 128, QR) that a
printer may draw natively. Every barcode block also carries the same symbol already drawn
with whole-dot bars, full page width, so a printer that cannot draw it (or a driver told not
to) prints that strip instead and the label looks the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image


def _check_strip(image: Image.Image, width: int, what: str) -> None:
    if image.mode != "1":
        raise ValueError(f"{what}: the image must be pure black and white (mode '1')")
    if image.width != width:
        raise ValueError(f"{what}: the strip is {image.width} dots wide, the page {width}")


@dataclass(frozen=True)
class Raster:
    """A strip of the label as a mode-``1`` image, exactly as wide as the page."""

    image: Image.Image

    @property
    def height(self) -> int:
        return self.image.height


@dataclass(frozen=True)
class Code128:
    """A Code 128 symbol: its data, its module width and height in dots, and the drawn strip."""

    data: str
    module: int
    height: int
    modules: int  # symbol width in modules, without the quiet zones
    drawn: Image.Image  # full page width, quiet zones included, bars on whole dots

    @property
    def strip_height(self) -> int:
        return self.drawn.height


@dataclass(frozen=True)
class QRCode:
    """A QR code: its data, its module size in dots, and the drawn strip."""

    data: str
    module: int
    size: int  # symbol width in modules, without the quiet zone
    drawn: Image.Image

    @property
    def strip_height(self) -> int:
        return self.drawn.height


Block = Raster | Code128 | QRCode


@dataclass(frozen=True)
class Document:
    """One label (or receipt, or test page): page width in dots and blocks from top to bottom."""

    width: int
    blocks: tuple[Block, ...]
    title: str = ""
    dpi: int = 203
    _cache: dict[str, Image.Image] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.width % 8:
            raise ValueError("the page width must be a whole number of bytes (8 dots)")
        for i, block in enumerate(self.blocks):
            image = block.image if isinstance(block, Raster) else block.drawn
            _check_strip(image, self.width, f"block {i}")

    @property
    def height(self) -> int:
        return sum(_strip(b).height for b in self.blocks)

    def flatten(self) -> Image.Image:
        """The whole page as one mode-``1`` image, every barcode drawn (what a preview shows)."""
        if "flat" not in self._cache:
            page = Image.new("1", (self.width, max(self.height, 1)), 1)
            y = 0
            for block in self.blocks:
                strip = _strip(block)
                page.paste(strip, (0, y))
                y += strip.height
            self._cache["flat"] = page
        return self._cache["flat"]


def _strip(block: Block) -> Image.Image:
    return block.image if isinstance(block, Raster) else block.drawn
