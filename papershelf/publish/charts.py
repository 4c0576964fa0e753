"""Static SVG charts, made at build time: no network, no JavaScript, deterministic.

Each chart is drawn twice, for Material's light and dark palettes; pages show the
right one with Material's ``#only-light`` / ``#only-dark`` image suffixes.
"""

from __future__ import annotations

from html import escape

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
    colors = PALETTES[palette]
    left, right, top, bottom = 48, 12, 34, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max(values, default=0) or 1
    ticks = _ticks(top_value)
    scale = plot_h / ticks[-1]
    step = plot_w / max(len(values), 1)
    bar_w = max(step * 0.8, 1.0)
    parts = [_open(width, height, title), _title(title, colors)]
    for tick in ticks:
        y = top + plot_h - tick * scale
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colors["grid"]}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{colors["muted"]}">{tick}</text>'
        )
    label_every = max(1, round(len(labels) / 12))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * step + (step - bar_w) / 2
        h = value * scale
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{colors["bar"]}"><title>{escape(label)}: {value}</title></rect>'
        )
        if i % label_every == 0:
            cx = left + i * step + step / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11" '
                f'fill="{colors["muted"]}">{escape(label)}</text>'
            )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.1f}" font-size="11" fill="{colors["muted"]}" '
        f'text-anchor="middle" transform="rotate(-90 14 {top + plot_h / 2:.1f})">'
        f"{escape(y_label)}</text>"
    )
    parts.append("</svg>\n")
    return "".join(parts)


def hbar_chart(
    labels: list[str], values: list[int], title: str, palette: str, width: int = 720
) -> str:
    """Horizontal bars, one per label, for sizes of categories (topics)."""
    colors = PALETTES[palette]
    row, top, label_w, right = 22, 34, 300, 40
    height = top + row * len(labels) + 10
    top_value = max(values, default=0) or 1
    plot_w = width - label_w - right
    parts = [_open(width, height, title), _title(title, colors)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        label = label if len(label) <= 44 else label[:43] + "…"
        y = top + i * row
        w = plot_w * value / top_value
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12" '
            f'fill="{colors["text"]}">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
            f'fill="{colors["bar"]}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="11" '
            f'fill="{colors["muted"]}">{value}</text>'
        )
    parts.append("</svg>\n")
    return "".join(parts)


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        'font-family="-apple-system, BlinkMacSystemFont, Segoe UI, Roboto, sans-serif">'
    )


def _title(title: str, colors: dict) -> str:
    return (
        f'<text x="8" y="20" font-size="14" font-weight="600" fill="{colors["text"]}">'
        f"{escape(title)}</text>"
    )


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
