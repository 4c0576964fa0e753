"""Static SVG charts, made at build time: no network, no JavaScript, deterministic.

Python computes the geometry; ``templates/*.svg.j2`` draw it (autoescaped: labels are
topic names, which are untrusted). Each chart is drawn twice, for Material's light and
dark palettes; pages show the right one with Material's ``#only-light`` / ``#only-dark``
image suffixes.
"""

from __future__ import annotations

from .templating import render

PALETTES = {
    "light": {"bar": "#3f51b5", "text": "#333333", "grid": "#dddddd", "muted": "#757575"},
    "dark": {"bar": "#8c9eff", "text": "#e2e4e9", "grid": "#3a3d4a", "muted": "#9ea3b0"},
}


def bar_chart(
    labels: list[str],
    values: list[int],
    title: str,
    palette: str,
    width: int = 720,
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
    label_every = max(1, round(len(labels) / 12))
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
                # Every label when they fit, else every few.
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
    labels: list[str], values: list[int], title: str, palette: str, width: int = 720
) -> str:
    """Horizontal bars, one per label, for sizes of categories (topics)."""
    row, top, label_w, right = 22, 34, 300, 40
    top_value = max(values, default=0) or 1
    plot_w = width - label_w - right
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y, w = top + i * row, plot_w * value / top_value
        bars.append(
            {
                "label": label if len(label) <= 44 else label[:43] + "…",
                "value": value,
                "y": y + 3,
                "text_y": y + 15,
                "width": _f(w),
                "height": row - 6,
                "value_x": _f(label_w + w + 6),
            }
        )
    return render(
        "hbar_chart.svg.j2",
        width=width,
        height=top + row * len(labels) + 10,
        title=title,
        colors=PALETTES[palette],
        label_width=label_w,
        bars=bars,
    )


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
