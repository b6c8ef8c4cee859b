"""Thermal output: paint a layout into a pure black-and-white image, cut it into blocks.

Text is drawn straight onto a mode-``1`` image, so Pillow draws it without anti-aliasing:
no grey pixel ever reaches a printer to be dithered into blurred edges. Barcode spans become
:class:`printers.Code128` / :class:`printers.QRCode` blocks carrying both the data (for a
printer that draws them natively) and the painted strip (for one that cannot).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from kt1.labels.codes import code128_pattern, draw_code128, draw_qr, qr_matrix
from kt1.labels.content import (
    LabelData,
    ReceiptData,
    label_layout,
    printer_test_layout,
    receipt_layout,
)
from kt1.labels.fonts import font
from kt1.labels.layout import Bars, Box, Layout, Modules, Text
from printers import Block, Code128, Document, QRCode, Raster

BLACK, WHITE = 0, 1


def paint(layout: Layout) -> Image.Image:
    """The whole layout as one mode-``1`` image (0 = black dot)."""
    image = Image.new("1", (layout.width, layout.height), WHITE)
    draw = ImageDraw.Draw(image)
    for item in layout.items:
        if isinstance(item, Text):
            draw.text((item.x, item.baseline), item.text, font=font(item.size, item.bold),
                      fill=WHITE if item.white else BLACK, anchor="ls")
        elif isinstance(item, Box):
            corners = [item.x, item.y, item.x + item.w - 1, item.y + item.h - 1]
            if item.filled:
                draw.rectangle(corners, fill=BLACK)
            else:
                draw.rectangle(corners, outline=BLACK, width=item.line)
        elif isinstance(item, Bars):
            image.paste(draw_code128(item.data, item.module, item.height), (item.x, item.y))
        elif isinstance(item, Modules):
            image.paste(draw_qr(item.data, item.module), (item.x, item.y))
    return image


def to_document(layout: Layout, image: Image.Image) -> Document:
    """Cut the painted image into raster strips and barcode blocks, top to bottom."""
    blocks: list[Block] = []
    width, y = layout.width, 0
    for span in sorted(layout.spans, key=lambda s: s.top):
        if span.top > y:
            blocks.append(Raster(image.crop((0, y, width, span.top))))
        strip = image.crop((0, span.top, width, span.bottom))
        item = span.item
        if isinstance(item, Bars):
            blocks.append(Code128(item.data, item.module, item.height,
                                  len(code128_pattern(item.data)), strip))
        else:
            blocks.append(QRCode(item.data, item.module, len(qr_matrix(item.data)), strip))
        y = span.bottom
    if y < layout.height:
        blocks.append(Raster(image.crop((0, y, width, layout.height))))
    return Document(width, tuple(blocks), title=layout.title)


@dataclass(frozen=True)
class Rendered:
    """A rendered label: the document for a printer, and every line of text drawn on it."""

    document: Document
    lines: tuple[str, ...]
    layout: Layout

    @property
    def image(self) -> Image.Image:
        return self.document.flatten()

    def png(self) -> bytes:
        """A PNG preview at printer resolution (203 dpi), 1 bit per dot."""
        out = io.BytesIO()
        self.image.save(out, "PNG", dpi=(203, 203))
        return out.getvalue()


def render(layout: Layout) -> Rendered:
    return Rendered(to_document(layout, paint(layout)), tuple(layout.lines), layout)


def render_label(data: LabelData, paper_mm: int = 80) -> Rendered:
    """The outer-envelope label for 58 mm (384 dots) or 80 mm (576 dots) paper."""
    return render(label_layout(data, paper_mm))


def render_receipt(data: ReceiptData, paper_mm: int = 80) -> Rendered:
    """A counter receipt (biên nhận)."""
    return render(receipt_layout(data, paper_mm))


def render_test_page(printer_name: str, paper_mm: int = 80) -> Rendered:
    """A printer test page."""
    return render(printer_test_layout(printer_name, paper_mm))
