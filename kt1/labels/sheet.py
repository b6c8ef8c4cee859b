"""An A4 PDF sheet of labels for laser printers (reportlab), drawn from the same layout.

Each label is the thermal layout at true size (a dot is 1/203 inch): text in the shipped
DejaVu font (embedded, so Vietnamese prints everywhere), bars and QR modules as exact
vector rectangles, which a laser printer renders sharper than any thermal head. Labels flow
two across, row after row, with a thin cutting frame around each.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kt1.labels.content import LabelData, label_layout
from kt1.labels.fonts import register_pdf_fonts
from kt1.labels.layout import DPI, Bars, Box, Layout, Modules, Text

DOT = 72.0 / DPI  # one printer dot in PDF points
PAGE_MARGIN = 10 * mm
CUT_PAD = 3 * mm
GUTTER = 6 * mm


def _runs(cells: Iterable[bool]) -> list[tuple[int, int]]:
    """(start, length) of each run of True."""
    runs, start, i = [], -1, -1
    for i, dark in enumerate(cells):
        if dark and start < 0:
            start = i
        elif not dark and start >= 0:
            runs.append((start, i - start))
            start = -1
    if start >= 0:
        runs.append((start, i + 1 - start))
    return runs


def draw_layout(canvas: Canvas, layout: Layout, left: float, top: float) -> None:
    """Draw ``layout`` with its top-left corner at (``left``, ``top``) in points."""
    regular, bold = register_pdf_fonts()

    def px(x: float) -> float:
        return left + x * DOT

    def py(y: float) -> float:
        return top - y * DOT

    for item in layout.items:
        if isinstance(item, Text):
            canvas.setFillGray(1 if item.white else 0)
            canvas.setFont(bold if item.bold else regular, item.size * DOT)
            canvas.drawString(px(item.x), py(item.baseline), item.text)
            canvas.setFillGray(0)
        elif isinstance(item, Box):
            if item.filled:
                canvas.rect(px(item.x), py(item.y + item.h), item.w * DOT, item.h * DOT,
                            stroke=0, fill=1)
            else:
                half = item.line / 2
                canvas.setLineWidth(item.line * DOT)
                canvas.rect(px(item.x + half), py(item.y + item.h - half),
                            (item.w - item.line) * DOT, (item.h - item.line) * DOT,
                            stroke=1, fill=0)
        elif isinstance(item, Bars):
            for start, length in _runs(m == "1" for m in item.pattern):
                canvas.rect(px(item.x + start * item.module), py(item.y + item.height),
                            length * item.module * DOT, item.height * DOT, stroke=0, fill=1)
        elif isinstance(item, Modules):
            for r, row in enumerate(item.matrix):
                y = item.y + r * item.module
                for start, length in _runs(row):
                    canvas.rect(px(item.x + start * item.module), py(y + item.module),
                                length * item.module * DOT, item.module * DOT, stroke=0,
                                fill=1)


def render_sheet(labels: Sequence[LabelData], paper_mm: int = 80, title: str = "") -> bytes:
    """An A4 PDF with ``labels`` laid out two across (``paper_mm`` picks the label size)."""
    if not labels:
        raise ValueError("a sheet needs at least one label")
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(title or "Nhãn bưu gửi KT1")
    canvas.setAuthor("KT1 Track")
    page_w, page_h = A4
    layouts = [label_layout(data, paper_mm) for data in labels]
    slot_w = max(lay.width for lay in layouts) * DOT + 2 * CUT_PAD
    per_row = max(1, int((page_w - 2 * PAGE_MARGIN + GUTTER) // (slot_w + GUTTER)))
    top = page_h - PAGE_MARGIN
    for first in range(0, len(layouts), per_row):
        row = layouts[first:first + per_row]
        row_h = max(lay.height for lay in row) * DOT + 2 * CUT_PAD
        if top - row_h < PAGE_MARGIN and top < page_h - PAGE_MARGIN:
            canvas.showPage()
            top = page_h - PAGE_MARGIN
        for i, lay in enumerate(row):
            left = PAGE_MARGIN + i * (slot_w + GUTTER)
            canvas.setLineWidth(0.3)
            canvas.setDash(2, 2)
            canvas.rect(left, top - lay.height * DOT - 2 * CUT_PAD, lay.width * DOT + 2 * CUT_PAD,
                        lay.height * DOT + 2 * CUT_PAD, stroke=1, fill=0)
            canvas.setDash()
            draw_layout(canvas, lay, left + CUT_PAD, top - CUT_PAD)
        top -= row_h + GUTTER
    canvas.showPage()
    canvas.save()
    return out.getvalue()
