"""Static SVG charts, made at build time: no network, no JavaScript, deterministic.

Python computes the geometry; ``templates/*.svg.j2`` draw it (autoescaped: labels are
topic names, which are untrusted). Each chart is drawn twice, for Material's light and
dark palettes; pages show the right one with Material's ``#only-light`` / ``#only-dark``
image suffixes. And each is drawn at two widths: ``WIDE`` for a desktop's column, ``NARROW``
for a phone's, where it shows at about its own size (a wide chart shrunk to a phone's width
would show its 12 px labels at 6 px). Labels too long for their room wrap onto more lines:
none is cut.
"""

from __future__ import annotations

import math
import re
import textwrap

from .templating import render

WIDE = 720
NARROW = 360  # a 390 px phone's column (Material's margins are 16 px a side)

# Average width of a character of the sans-serif labels, in em: generous, so that labels
# wrapped to it fit in the room they are given.
CHAR_EM = 0.6

PALETTES = {
    "light": {"bar": "#3f51b5", "text": "#333333", "grid": "#dddddd", "muted": "#757575"},
    "dark": {"bar": "#8c9eff", "text": "#e2e4e9", "grid": "#3a3d4a", "muted": "#9ea3b0"},
}


def bar_chart(
    labels: list[str],
    values: list[int],
    title: str,
    palette: str,
    width: int = WIDE,
    height: int = 260,
    y_label: str = "papers",
) -> str:
    """Vertical bars, one per label, for a time series (months or years)."""
    left, right, top, bottom = 48, 12, 34, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = _ticks(max(values, default=0) or 1)
    scale = plot_h / ticks[-1]
    step = plot_w / max(len(values), 1)
    bar_w = max(step * 0.8, 1.0)
    # Every label when they fit side by side, else every few.
    label_room = max((len(label) for label in labels), default=1) * 11 * CHAR_EM + 8
    label_every = max(1, math.ceil(len(labels) / max(1, plot_w // label_room)))
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = value * scale
        bars.append(
            {
                "label": label,
                "value": value,
                "x": _f(left + i * step + (step - bar_w) / 2),
                "y": _f(top + plot_h - h),
                "width": _f(bar_w),
                "height": _f(h),
                "label_x": _f(left + i * step + step / 2) if i % label_every == 0 else "",
            }
        )
    y = [top + plot_h - tick * scale for tick in ticks]
    return render(
        "bar_chart.svg.j2",
        width=width,
        height=height,
        title=title,
        colors=PALETTES[palette],
        left=left,
        right=width - right,
        ticks=[
            {"value": t, "y": _f(v), "text_y": _f(v + 4)} for t, v in zip(ticks, y, strict=True)
        ],
        bars=bars,
        label_y=top + plot_h + 16,
        middle=_f(top + plot_h / 2),
        y_label=y_label,
    )


def hbar_chart(
    labels: list[str], values: list[int], title: str, palette: str, width: int = WIDE
) -> str:
    """Horizontal bars, one per label, for sizes of categories (topics). The labels take
    up to 300 px or 45% of the width, on as many lines as they need."""
    top, right, font, line = 34, 40, 12, 15
    label_w = min(300, round(width * 0.45))
    per_line = int((label_w - 8) / (font * CHAR_EM))
    top_value = max(values, default=0) or 1
    plot_w = width - label_w - right
    bars, y = [], top
    for label, value in zip(labels, values, strict=True):
        lines = textwrap.wrap(label, per_line, break_on_hyphens=False) or [""]
        row = max(22, line * len(lines) + 7)
        w = plot_w * value / top_value
        first = y + (row - line * len(lines)) / 2 + font  # the first line's baseline
        bars.append(
            {
                "label": label,
                "lines": [
                    {"text": text, "y": _f(first + k * line)} for k, text in enumerate(lines)
                ],
                "value": value,
                "y": _f(y + (row - 16) / 2),
                "text_y": _f(y + row / 2 + 4),
                "width": _f(w),
                "height": 16,
                "value_x": _f(label_w + w + 6),
            }
        )
        y += row
    return render(
        "hbar_chart.svg.j2",
        width=width,
        height=y + 10,
        title=title,
        colors=PALETTES[palette],
        label_width=label_w,
        bars=bars,
    )


def svg_size(svg: str) -> tuple[int, int]:
    """The width and height a chart drawn here declares."""
    size = re.match(r'<svg [^>]* width="(\d+)" height="(\d+)"', svg)
    return int(size[1]), int(size[2])


def _f(number: float) -> str:
    """A coordinate, to a tenth of a pixel."""
    return f"{number:.1f}"


def _ticks(top_value: int) -> list[int]:
    """Round tick values from 0 to at least ``top_value``, four or five of them."""
    step = 1
    while top_value / step > 5:
        for factor in (2, 5, 10):
            if top_value / (step * factor) <= 5:
                step *= factor
                break
        else:
            step *= 10
    ticks = list(range(0, top_value + step, step))
    return ticks if ticks[-1] >= top_value else [*ticks, ticks[-1] + step]
