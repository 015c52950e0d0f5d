"""Charts as inline SVG drawn here (no chart library, nothing fetched by the browser): stacked
bars and a line. Colours are CSS classes ``c0``…``c7`` of admin.css; every bar segment and point
has a ``<title>`` (its tooltip)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 900, 260, 44, 28, 10
COLOURS = 8


def stacked_bars(labels: Sequence[str], series: Mapping[str, Sequence[float]],
                 title: str = "") -> Markup:
    """One bar per label, the series stacked in order; the y axis from 0 to the tallest bar."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = _nice(max(max(totals, default=0), 4))  # whole-number ticks for small counts
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(labels), 1)
    parts = [*_axis(top, plot_h)]
    for i, label in enumerate(labels):
        x, y = LEFT + i * step + step * 0.15, float(TOP + plot_h)
        for n, (name, values) in enumerate(series.items()):
            h = plot_h * values[i] / top
            if h > 0:
                y -= h
                parts.append(f'<rect class="c{n % COLOURS}" x="{x:.1f}" y="{y:.1f}" '
                             f'width="{step * 0.7:.1f}" height="{h:.1f}">'
                             f'<title>{escape(label)} {escape(name)}: {values[i]:g}</title></rect>')
        parts.extend(_x_label(i, label, len(labels), LEFT + i * step + step / 2))
    return _svg(parts, title)


def line(labels: Sequence[str], values: Sequence[float], title: str = "",
         unit: str = "") -> Markup:
    """A line through ``values``, one point per label."""
    top = _nice(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(labels), 1)
    points = [(LEFT + i * step + step / 2, TOP + plot_h - plot_h * v / top)
              for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    parts = [*_axis(top, plot_h),
             f'<polyline class="line" points="{path}" fill="none" stroke="#2457c5" '
             f'stroke-width="2"/>']
    for i, ((x, y), label) in enumerate(zip(points, labels, strict=True)):
        parts.append(f'<circle class="c0" cx="{x:.1f}" cy="{y:.1f}" r="3">'
                     f'<title>{escape(label)}: {values[i]:g}{escape(unit)}</title></circle>')
        parts.extend(_x_label(i, label, len(labels), x))
    return _svg(parts, title)


def _axis(top: float, plot_h: float) -> list[str]:
    out = []
    for k in range(5):
        y = TOP + plot_h - plot_h * k / 4
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#e3e7ee"/><text x="{LEFT - 6}" y="{y + 4:.1f}" '
                   f'text-anchor="end">{top * k / 4:g}</text>')
    return out


def _x_label(i: int, label: str, count: int, x: float) -> list[str]:
    """Every label when few, else about twelve of them (and the last)."""
    every = max(1, round(count / 12))
    if i % every and i != count - 1:
        return []
    return [f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle">{escape(label[5:])}</text>']


def _svg(parts: list[str], title: str) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
                  f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
                  + "".join(parts) + "</svg>")


def _nice(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 5 × 10^n; 1 when nothing)."""
    if value <= 0:
        return 1.0
    scale = 10 ** (len(str(int(value))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * scale:
            return float(factor * scale)
    return float(10 * scale)
