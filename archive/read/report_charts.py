"""The report's charts, drawn as inline SVG (no script, no library): stacked vertical bars
and labelled horizontal bars, every part titled with its count."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from archive.safe_text import html_text

# Tableau 10: distinct, print-safe, and readable by most colour-blind readers.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
)
OTHER_COLOUR = "#bab0ac"
BAR_COLOUR = "#4e79a7"
ATTACHMENT_COLOUR = "#f28e2b"


# Escaped markup, and bidi and control characters shown as escapes (archive.safe_text).
_e = html_text


def _nice_step(maximum: int, ticks: int = 5) -> int:
    """A step of 1, 2 or 5 times a power of ten giving about `ticks` gridlines."""
    if maximum <= ticks:
        return 1
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= raw:
            return int(multiple * magnitude)
    return int(10 * magnitude)


@dataclass
class Series:
    name: str
    colour: str
    values: list[int]


def stacked_bars(categories: Sequence[str], series: Sequence[Series], unit: str) -> str:
    """A vertical stacked bar chart: one bar per category, one coloured part per series,
    each part titled (a tooltip) with its series, category and count."""
    width, height = 960, 320
    left, right, top, bottom = 48, 12, 20, 44
    plot_width, plot_height = width - left - right, height - top - bottom
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    step = _nice_step(max(totals, default=0))
    ceiling = max(step, math.ceil(max(totals, default=0) / step) * step)
    slot = plot_width / max(len(categories), 1)
    bar = min(slot * 0.72, 64.0)

    def y(value: float) -> float:
        return top + plot_height - value / ceiling * plot_height

    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg">']
    for tick in range(0, ceiling + 1, step):
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" '
            f'y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    label_every = max(1, math.ceil(len(categories) / 12))
    for i, category in enumerate(categories):
        x = left + i * slot + (slot - bar) / 2
        base = 0
        for s in series:
            value = s.values[i]
            if not value:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y(base + value):.1f}" width="{bar:.1f}" '
                f'height="{y(base) - y(base + value):.1f}" fill="{s.colour}">'
                f"<title>{_e(s.name)} · {_e(category)}: {value} {_e(unit)}</title></rect>"
            )
            base += value
        centre = x + bar / 2
        if totals[i] and len(categories) <= 36:
            parts.append(
                f'<text class="total" x="{centre:.1f}" y="{y(totals[i]) - 4:.1f}" '
                f'text-anchor="middle">{totals[i]}</text>'
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{centre:.1f}" y="{top + plot_height + 18}" '
                f'text-anchor="middle">{_e(category)}</text>'
            )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" '
        f'y1="{top + plot_height}" y2="{top + plot_height}"/></svg>'
    )
    return "".join(parts)


def horizontal_bars(rows: Sequence[tuple[str, int]], colour: str, unit: str) -> str:
    """One labelled horizontal bar per row, its count written at its end."""
    width, row_height, label_width, value_room = 960, 26, 230, 60
    height = row_height * len(rows) + 8
    maximum = max((value for _label, value in rows), default=0) or 1
    scale = (width - label_width - value_room) / maximum
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_height
        shown = label if len(label) <= 16 else label[:15] + "…"
        length = max(value * scale, 1.0)
        parts.append(
            f'<text x="{label_width - 10}" y="{y + 17}" text-anchor="end">{_e(shown)}'
            f"<title>{_e(label)}</title></text>"
            f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row_height - 8}" '
            f'fill="{colour}" rx="2"><title>{_e(label)}: {value} {_e(unit)}</title></rect>'
            f'<text class="total" x="{label_width + length + 6:.1f}" y="{y + 17}">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
