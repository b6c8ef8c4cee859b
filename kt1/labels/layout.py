"""Label geometry: a top-to-bottom layout in printer dots (203 dpi), shared by every output.

A :class:`Layout` is a list of drawing items (text, boxes, bars, QR modules) at dot
coordinates plus the vertical spans where a barcode sits. The thermal renderer paints it
into a pure black-and-white image and cuts it into raster strips and barcode blocks; the A4
sheet draws the very same items with reportlab at true size. Every string drawn is kept in
``Layout.lines``, so a test can read back exactly what text is on a label.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from kt1.labels.codes import (
    CODE128_QUIET,
    QR_QUIET,
    code128_pattern,
    qr_matrix,
)
from kt1.labels.fonts import font

DPI = 203
DOTS_PER_MM = DPI / 25.4


@dataclass(frozen=True)
class Geometry:
    """Sizes in dots for one paper width."""

    paper_mm: int
    width: int  # printable dots across
    margin: int
    small: int  # font sizes (em height in dots)
    body: int
    title: int
    number: int
    kt1: int
    letter: int
    module: int  # Code 128 module, whole dots
    bar_height: int
    qr_module: int
    gap: int


GEOMETRIES = {
    58: Geometry(58, 384, margin=8, small=20, body=23, title=26, number=34, kt1=44, letter=104,
                 module=2, bar_height=88, qr_module=4, gap=6),
    80: Geometry(80, 576, margin=12, small=24, body=28, title=32, number=44, kt1=56, letter=132,
                 module=3, bar_height=112, qr_module=5, gap=8),
}


def geometry(paper_mm: int) -> Geometry:
    """The geometry for 58 mm (384 dots) or 80 mm (576 dots) paper."""
    try:
        return GEOMETRIES[int(paper_mm)]
    except (KeyError, ValueError):
        raise ValueError(f"paper width must be 58 or 80 mm, not {paper_mm!r}") from None


@dataclass(frozen=True)
class Text:
    x: int
    baseline: int
    text: str
    size: int
    bold: bool = False
    white: bool = False  # white on a black box


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int
    filled: bool = False
    line: int = 2


@dataclass(frozen=True)
class Bars:
    """A Code 128 symbol without quiet zones, its left edge at ``x``."""

    x: int
    y: int
    data: str
    module: int
    height: int

    @property
    def pattern(self) -> str:
        return code128_pattern(self.data)


@dataclass(frozen=True)
class Modules:
    """A QR code without quiet zone, its top-left module at (``x``, ``y``)."""

    x: int
    y: int
    data: str
    module: int

    @property
    def matrix(self) -> tuple[tuple[bool, ...], ...]:
        return qr_matrix(self.data)


Item = Text | Box | Bars | Modules


@dataclass(frozen=True)
class Span:
    """Rows ``top``..``bottom`` (exclusive) hold one barcode and nothing else."""

    kind: Literal["code128", "qr"]
    top: int
    bottom: int
    item: Bars | Modules


@dataclass
class Layout:
    width: int
    height: int
    items: list[Item]
    spans: list[Span]
    lines: list[str]
    title: str = ""


def clean(text: str) -> str:
    """NFC (precomposed Vietnamese letters, which the font has) with whitespace squeezed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def wrap(text: str, size: int, bold: bool, width: int) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` dots (words first, then letters).

    Word widths are measured once and summed; a line that kerning makes wider than the sum
    says is measured whole and re-broken, so no line ever overflows.
    """
    f = font(size, bold)
    space = f.getlength(" ")
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in clean(text).split(" "):
        w = f.getlength(word)
        if current and used + space + w <= width:
            current.append(word)
            used += space + w
            continue
        if current:
            lines.append(" ".join(current))
        current, used = [], 0.0
        while w > width:  # a single word wider than the line
            cut = len(word)
            while cut > 1 and f.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
            w = f.getlength(word)
        current, used = [word], w
    if current:
        lines.append(" ".join(current))
    out: list[str] = []
    for line in lines:
        if " " in line and f.getlength(line) > width:
            head, _, tail = line.rpartition(" ")
            out.extend(wrap(head, size, bold, width))
            out.extend(wrap(tail, size, bold, width))
        else:
            out.append(line)
    return out


@dataclass
class Builder:
    """Stacks content from the top of the label down, in dots."""

    geo: Geometry
    y: int = 0
    items: list[Item] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.y = self.geo.margin

    @property
    def inner(self) -> int:
        return self.geo.width - 2 * self.geo.margin

    def gap(self, dots: int | None = None) -> None:
        self.y += self.geo.gap if dots is None else dots

    def line_height(self, size: int, bold: bool = False) -> int:
        ascent, descent = font(size, bold).getmetrics()
        return ascent + descent

    def put(self, text: str, x: int, top: int, size: int, bold: bool = False,
            white: bool = False) -> int:
        """One line of text whose box starts at ``top``; returns the bottom of the line."""
        ascent, descent = font(size, bold).getmetrics()
        self.items.append(Text(x, top + ascent, text, size, bold, white))
        self.lines.append(text)
        return top + ascent + descent

    def text(self, text: str, size: int | None = None, *, bold: bool = False,
             align: Literal["left", "center"] = "left", x0: int | None = None,
             x1: int | None = None) -> None:
        """Wrapped text across the label (or between ``x0`` and ``x1``)."""
        size = size or self.geo.body
        left = self.geo.margin if x0 is None else x0
        right = self.geo.width - self.geo.margin if x1 is None else x1
        f = font(size, bold)
        for piece in wrap(text, size, bold, right - left):
            x = left if align == "left" else left + (right - left - int(f.getlength(piece))) // 2
            self.y = self.put(piece, x, self.y, size, bold)

    def boxed(self, text: str, size: int, *, bold: bool = True, inverse: bool = False,
              x: int | None = None, pad: int = 6, center: bool = False, right: bool = False,
              max_width: int | None = None) -> tuple[int, int]:
        """Text in a box (``inverse``: white on black); returns the box's (width, height)."""
        f = font(size, bold)
        avail = (max_width or self.inner) - 2 * pad
        pieces = wrap(text, size, bold, avail)
        widest = max(int(f.getlength(p)) for p in pieces)
        w = widest + 2 * pad
        if x is not None:
            left = x
        elif right:
            left = self.geo.width - self.geo.margin - w
        elif center:
            left = self.geo.margin + (self.inner - w) // 2
        else:
            left = self.geo.margin
        top = self.y
        inner_y = top + pad // 2
        for piece in pieces:
            px = left + (w - int(f.getlength(piece))) // 2
            inner_y = self.put(piece, px, inner_y, size, bold, white=inverse)
        h = inner_y - top + pad // 2
        self.items.insert(len(self.items) - len(pieces), Box(left, top, w, h, filled=inverse))
        self.y = top + h
        return w, h

    def rule(self) -> None:
        self.items.append(Box(self.geo.margin, self.y, self.inner, 2, filled=True))
        self.y += 2

    def code128(self, data: str, module: int | None = None, height: int | None = None) -> None:
        """A Code 128 strip: whole-dot bars centred with their quiet zones, a margin above
        and below (the strip is what a printer without native barcodes receives)."""
        module = module or self.geo.module
        height = height or self.geo.bar_height
        modules = len(code128_pattern(data))
        if (modules + 2 * CODE128_QUIET) * module > self.geo.width:
            raise ValueError(f"{data!r} needs {(modules + 2 * CODE128_QUIET) * module} dots at "
                             f"{module} dots per module; the label has {self.geo.width}")
        pad = 2 * self.geo.gap
        x = (self.geo.width - modules * module) // 2
        bars = Bars(x, self.y + pad, data, module, height)
        self.items.append(bars)
        self.spans.append(Span("code128", self.y, self.y + pad + height + pad, bars))
        self.y += pad + height + pad

    def qr(self, data: str, module: int | None = None) -> None:
        """A QR strip: the code centred with its 4-module quiet zone above and below."""
        module = module or self.geo.qr_module
        size = len(qr_matrix(data))
        quiet = QR_QUIET * module
        x = (self.geo.width - size * module) // 2
        modules = Modules(x, self.y + quiet, data, module)
        self.items.append(modules)
        self.spans.append(Span("qr", self.y, self.y + quiet + size * module + quiet, modules))
        self.y += quiet + size * module + quiet

    def finish(self, title: str = "") -> Layout:
        height = self.y + self.geo.margin
        return Layout(self.geo.width, height, self.items, self.spans, self.lines, title)
