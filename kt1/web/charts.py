"""Charts drawn on the server as inline SVG: a grouped bar chart and a line chart.

No chart library and nothing from outside: the page carries the ``<svg>`` markup itself.
Colours and sizes are SVG presentation attributes (``fill``, ``stroke``), not ``style``
attributes, so the Content Security Policy (``style-src 'self'``, kt1/web/__init__.py) has
nothing to block. Every label is escaped; each chart has a ``<title>`` and an
``aria-label`` for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

#: One colour per series, distinguishable in greyscale print too.
PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#a50021", "#5f5f5f")
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'


def _nice_max(value: int) -> int:
    """A round top for the value axis (1, 2, 5 × 10ⁿ), at least 1."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if value <= m * step:
                return m * step
        step *= 10


def _ticks(top: int) -> list[int]:
    """Whole, evenly spaced values from 0 to ``top`` (a :func:`_nice_max`), at most six."""
    if top >= 5 and top % 5 == 0:
        step = top // 5
    elif top % 4 == 0:
        step = top // 4
    else:
        step = max(1, top // 2)
    return list(range(0, top + 1, step))


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    out, cx = [], x
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{cx:.1f}" y="{y - 9:.1f}" width="10" height="10" '
                   f'fill="{colour}"/>')
        out.append(f'<text x="{cx + 14:.1f}" y="{y:.1f}" font-size="11" {FONT}>'
                   f'{escape(name)}</text>')
        cx += 24 + 6.2 * len(name)
    return out


def _frame(width: int, height: int, title: str, body: list[str], chart_id: str) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" id={quoteattr(chart_id)} '
            f'class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label={quoteattr(title)}><title>{escape(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704  (every text escaped above)


def bar_chart(title: str, groups: Sequence[tuple[str, Sequence[int]]],
              series: Sequence[str], chart_id: str = "bar-chart") -> Markup:
    """Grouped bars: one group per label (e.g. a classification), one bar per series
    (e.g. a kind of movement), with the value above each non-zero bar."""
    width, height, left, top, bottom = 720, 300, 44, 34, 46
    plot_w, plot_h = width - left - 12, height - top - bottom
    peak = _nice_max(max((v for _g, values in groups for v in values), default=0))
    body = _legend(series, left, 16)
    for tick in _ticks(peak):
        y = top + plot_h - plot_h * tick / peak
        body.append(f'<line x1="{left}" x2="{width - 12}" y1="{y:.1f}" y2="{y:.1f}" '
                    'stroke="#d9d9d9" stroke-width="1"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
                    f'{FONT}>{tick}</text>')
    group_w = plot_w / max(1, len(groups))
    bar_w = group_w * 0.8 / max(1, len(series))
    for g, (label, values) in enumerate(groups):
        x0 = left + g * group_w + group_w * 0.1
        for i, value in enumerate(values):
            h = plot_h * value / peak
            x, y = x0 + i * bar_w, top + plot_h - h
            body.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w * 0.9:.1f}" '
                        f'height="{h:.1f}" fill="{PALETTE[i % len(PALETTE)]}">'
                        f'<title>{escape(label)} · {escape(series[i])}: {value}</title></rect>')
            if value:
                body.append(f'<text x="{x + bar_w * 0.45:.1f}" y="{y - 3:.1f}" font-size="9" '
                            f'text-anchor="middle" {FONT}>{value}</text>')
        body.append(f'<text x="{left + (g + 0.5) * group_w:.1f}" y="{height - bottom + 18}" '
                    f'font-size="12" text-anchor="middle" {FONT}>{escape(label)}</text>')
    body.append(f'<line x1="{left}" x2="{width - 12}" y1="{top + plot_h}" '
                f'y2="{top + plot_h}" stroke="#000" stroke-width="1"/>')
    return _frame(width, height, title, body, chart_id)


def line_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
               chart_id: str = "line-chart") -> Markup:
    """One line per series over the labels (e.g. months), a dot on every point."""
    width, height, left, top, bottom = 720, 300, 44, 34, 46
    plot_w, plot_h = width - left - 20, height - top - bottom
    peak = _nice_max(max((v for _n, values in series for v in values), default=0))
    body = _legend([name for name, _v in series], left, 16)
    for tick in _ticks(peak):
        y = top + plot_h - plot_h * tick / peak
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                    'stroke="#d9d9d9" stroke-width="1"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
                    f'{FONT}>{tick}</text>')
    n = len(labels)
    step = plot_w / max(1, n - 1)

    def x_of(i: int) -> float:
        return left + (i * step if n > 1 else plot_w / 2)

    every = max(1, -(-n // 12))  # at most about twelve labels on the axis
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            body.append(f'<text x="{x_of(i):.1f}" y="{height - bottom + 18}" font-size="10" '
                        f'text-anchor="middle" {FONT}>{escape(label)}</text>')
    for s, (name, values) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        points = " ".join(f"{x_of(i):.1f},{top + plot_h - plot_h * v / peak:.1f}"
                          for i, v in enumerate(values))
        body.append(f'<polyline class="line" points="{points}" fill="none" stroke="{colour}" '
                    'stroke-width="2"/>')
        for i, v in enumerate(values):
            body.append(f'<circle cx="{x_of(i):.1f}" cy="{top + plot_h - plot_h * v / peak:.1f}"'
                        f' r="3" fill="{colour}"><title>{escape(labels[i])} · {escape(name)}: '
                        f'{v}</title></circle>')
    body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" '
                f'y2="{top + plot_h}" stroke="#000" stroke-width="1"/>')
    return _frame(width, height, title, body, chart_id)
