"""Small building blocks for the server-rendered SVG charts.

Charts are inline SVG without a chart library or script: pages stay within the
Content-Security-Policy, print as they look, and carry a title and description for screen
readers. Colours are presentation attributes, not ``style``, so the policy allows them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from markupsafe import Markup, escape

ACCENT = "#0f7b6c"
ACCENT_SOFT = "#d7efe9"
SECOND = "#1d4f91"
WARN = "#8a5300"
GRID = "#e2e6ec"
AXIS = "#5b6577"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"

T = TypeVar("T")


@dataclass(frozen=True)
class Scale:
    """A value axis from ``lo`` to ``hi`` drawn between pixel rows ``top`` and ``bottom``."""

    lo: float
    hi: float
    ticks: list[float]

    def at(self, value: float, top: float, bottom: float) -> float:
        return bottom - (value - self.lo) / (self.hi - self.lo) * (bottom - top)


def nice_step(span: float, count: int = 4, *, integer: bool = False) -> float:
    """A round step that cuts ``span`` into about ``count`` parts; whole and at least 1 for whole-number axes,
    whose labels would otherwise repeat ("0, 0, 0, 1, 1")."""
    # A span too small to tell from zero (a float's last bits) still gets a finite step.
    raw = max(span / count, 1.0 if integer else 1e-9)
    magnitude = 10 ** math.floor(math.log10(raw))
    factors = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    return next((factor * magnitude for factor in factors if raw <= factor * magnitude), 10 * magnitude)


def value_scale(values: Sequence[float], count: int = 4, *, integer: bool | None = None) -> Scale:
    """Round ticks around the values; business figures start at zero, so the chart does not overstate.

    ``integer``: the axis counts whole things (days, euros shown without cents); by default, whether every
    value is whole.
    """
    if integer is None:
        integer = all(float(value).is_integer() for value in values)
    lo, hi = min(values), max(values)
    if lo >= 0:
        lo = 0.0
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    step = nice_step(hi - lo, count, integer=integer)
    lo_tick, hi_tick = math.floor(lo / step) * step, math.ceil(hi / step) * step
    ticks, tick = [], lo_tick
    while tick <= hi_tick + step / 2:
        ticks.append(round(tick, 10))
        tick += step
    return Scale(lo_tick, hi_tick, ticks)


def f(value: float) -> str:
    return f"{value:.1f}"


def svg_open(width: int, height: int, title: str, desc: str, ident: str) -> str:
    return (
        f'<svg class="chart__svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="{FONT}" font-size="12" '
        'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>'
    )


def line_chart(
    ident: str,
    title: str,
    desc: str,
    days: Sequence[date],
    values: Sequence[float | None],
    *,
    y_label: Callable[[float], str],
    x_label: Callable[[date], str],
    scale: Scale | None = None,
    integer: bool | None = None,
    step: bool = False,
    width: int = 560,
    height: int = 220,
) -> Markup:
    """One series over evenly spaced days (weekly snapshots); gaps where a value is None."""
    present = [v for v in values if v is not None]
    scale = scale or value_scale(present or [0.0], integer=integer)
    tick_labels = [y_label(tick) for tick in scale.ticks]
    # Room for the longest value label (about 7 px per character at 12 px), so money never gets clipped.
    left, right, top, bottom = 16 + 7 * max(len(label) for label in tick_labels), 24, 16, height - 32
    out = [svg_open(width, height, title, desc, ident)]
    for tick, label in zip(scale.ticks, tick_labels, strict=True):
        y = f(scale.at(tick, top, bottom))
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{left - 8}" y="{y}" dy="0.32em" text-anchor="end" fill="{AXIS}">{escape(label)}</text>')
    n = len(days)

    def x_at(i: int) -> float:
        return left + (i / (n - 1) if n > 1 else 0.5) * (width - left - right)

    for i in sorted({0, n // 2, n - 1}) if n else []:
        # The outer labels align with the plot's edges instead of spilling over them.
        anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
        out.append(
            f'<text x="{f(x_at(i))}" y="{height - 10}" text-anchor="{anchor}" fill="{AXIS}">'
            f"{escape(x_label(days[i]))}</text>"
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    previous_y: float | None = None
    for i, value in enumerate(values):
        if value is None:
            if segment:
                segments.append(segment)
            segment, previous_y = [], None
            continue
        x, y = x_at(i), scale.at(value, top, bottom)
        if step and previous_y is not None:
            segment.append(f"{f(x)},{f(previous_y)}")
        segment.append(f"{f(x)},{f(y)}")
        previous_y = y
    if segment:
        segments.append(segment)
    for points in segments:
        out.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{ACCENT}" stroke-width="2.5" '
            'stroke-linejoin="round" stroke-linecap="round"/>'
        )
    if present:
        last = max(i for i, v in enumerate(values) if v is not None)
        out.append(
            f'<circle cx="{f(x_at(last))}" cy="{f(scale.at(values[last], top, bottom))}" r="4" fill="#ffffff" '
            f'stroke="{ACCENT}" stroke-width="2.5"/>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(
    ident: str, title: str, desc: str, rows: Sequence[tuple[str, float, str]], *, maximum: float, width: int = 560
) -> Markup:
    """Horizontal bars: (label, value, shown value); ``maximum`` is the full length."""
    label_w, value_w, row_h = 150, 56, 30
    height = row_h * len(rows) + 8
    bar_w = width - label_w - value_w
    out = [svg_open(width, height, title, desc, ident)]
    for i, (label, value, shown) in enumerate(rows):
        y = 4 + i * row_h
        length = 0.0 if maximum <= 0 else max(0.0, min(1.0, value / maximum)) * bar_w
        out.append(
            f'<text x="{label_w - 10}" y="{y + row_h / 2}" dy="0.32em" text-anchor="end" fill="{AXIS}">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 6}" width="{bar_w}" height="{row_h - 12}" rx="4" fill="{ACCENT_SOFT}"/>'
            f'<rect x="{label_w}" y="{y + 6}" width="{f(length)}" height="{row_h - 12}" rx="4" fill="{ACCENT}"/>'
            f'<text x="{width - 4}" y="{y + row_h / 2}" dy="0.32em" text-anchor="end" fill="#1d2433" '
            f'font-weight="600">{escape(shown)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def evenly_spaced(count: int, limit: int) -> list[int]:
    """At most ``limit`` (at least 2) of the indices ``0 … count - 1``, spread evenly, the first and the last
    always among them; every index when there are no more than ``limit``."""
    if count <= limit:
        return list(range(count))
    step = (count - 1) / (limit - 1)
    # The step exceeds 1, so the rounded indices are distinct and the last one is count - 1.
    return [round(i * step) for i in range(limit)]


def downsample(points: Sequence[T], limit: int, value: Callable[[T], float]) -> list[T]:
    """At most ``limit`` (at least 4) of ``points``, in their order: evenly spaced ones with the first and the
    last, plus the lowest and the highest ``value`` (the first of equals), so the drawn line spans the same
    days and the same range of values as all of them. ``points`` as they are when there are no more."""
    if len(points) <= limit:
        return list(points)
    values = [value(point) for point in points]
    lowest = min(range(len(values)), key=values.__getitem__)
    highest = max(range(len(values)), key=values.__getitem__)
    kept = {*evenly_spaced(len(points), limit - 2), lowest, highest}
    return [points[index] for index in sorted(kept)]
