"""The KPI chart of a cycle, drawn on the server as inline SVG.

No chart library and no script: the page stays within its Content-Security-Policy, prints as
it looks, and reads the same to a screen reader (title and description say what the lines
show). Colours are SVG presentation attributes, not ``style``, so the policy allows them and
the chart keeps its colours without the stylesheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from babel.dates import format_skeleton
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

from engpass.charts import ACCENT, AXIS, FONT, GRID, Scale, downsample, value_scale
from engpass.cycles.models import Cycle, KpiDirection, Measurement
from engpass.formatting import day, number


@dataclass(frozen=True)
class Layout:
    """The chart's geometry. A wide one for desks and print, a compact one whose text stays legible on a phone."""

    name: str
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    date_ticks: int
    # Wide: the baseline and target labels sit in the right margin; compact: above their lines.
    labels_outside: bool

    @property
    def plot_w(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> int:
        return self.height - self.top - self.bottom


WIDE = Layout("wide", 720, 300, 64, 150, 24, 44, 5, True)
COMPACT = Layout("compact", 340, 250, 40, 14, 24, 36, 3, False)

# The most points a drawing holds however many measurements there are: a point every 6 px of the wide plot,
# more than a phone's plot can tell apart. See ``engpass.charts.downsample`` for which ones.
CHART_POINTS = 120

BASELINE = "#8a5300"
TARGET = "#1d4f91"


# A 12 px label reaches this far above and below its baseline; a point's circle this far around its centre.
LABEL_ASCENT = 10
LABEL_DESCENT = 3
POINT_RADIUS = 7
LINE_GAP = 3


def value_label_y(point_y: float, lines: list[float], top: float, bottom: float) -> float:
    """The baseline of the latest value's label: above its point if that is clear, else below, else the
    nearest clear row, so the text never sits on the baseline's or target's line nor on the point.

    ``top`` and ``bottom`` bound the label's baseline.
    """

    # The SVG writes every coordinate to one decimal: a row that is clear by a hair before rounding can
    # touch a line after it, so the rows are judged as drawn, against the lines as computed and as drawn.
    lines = [*lines, *(float(_f(line)) for line in lines)]

    def clear(y: float) -> bool:
        box_top, box_bottom = y - LABEL_ASCENT, y + LABEL_DESCENT
        if box_bottom > point_y - POINT_RADIUS and box_top < point_y + POINT_RADIUS:
            return False
        return all(line < box_top - LINE_GAP or line > box_bottom + LINE_GAP for line in lines)

    preferred = (point_y - POINT_RADIUS - LABEL_DESCENT - 4, point_y + POINT_RADIUS + LABEL_ASCENT + 4)
    for distance in range(int(bottom - top) + 1):
        for start in preferred:
            for y in (float(_f(start - distance)), float(_f(start + distance))):
                if top <= y <= bottom and clear(y):
                    return y
    return min(max(preferred[0], top), bottom)


def _y(scale: Scale, value: float, layout: Layout) -> float:
    return scale.at(value, layout.top, layout.top + layout.plot_h)


def date_range(cycle: Cycle, measurements: list[Measurement], today: date) -> tuple[date, date]:
    days = [m.measured_on for m in measurements]
    for extra in (cycle.prototype_start, cycle.prototype_target):
        if extra is not None:
            days.append(extra)
    if not days:
        days = [today]
    first, last = min(days), max(days)
    if first == last:
        first, last = first - timedelta(days=7), last + timedelta(days=7)
    return first, last


def _x(value: date, first: date, last: date, layout: Layout) -> float:
    return layout.left + (value - first).days / (last - first).days * layout.plot_w


def date_ticks(first: date, last: date, count: int = 5) -> list[date]:
    span = (last - first).days
    if span <= count:
        return [first + timedelta(days=i) for i in range(span + 1)]
    return [first + timedelta(days=round(span * i / (count - 1))) for i in range(count)]


def short_date(value: date, span_days: int) -> str:
    skeleton = "yMMM" if span_days > 330 else "MMMd"
    return format_skeleton(skeleton, value, locale=get_locale())


def _f(value: float) -> str:
    return f"{value:.1f}"


def shorten(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def with_unit(value: Decimal | float, unit: str) -> str:
    text = number(Decimal(str(value)))
    return f"{text} {unit}".strip()


def kpi_chart(cycle: Cycle, measurements: list[Measurement], today: date, total: int | None = None) -> Markup | None:
    """The KPI over time against its baseline and target, in a wide and a compact drawing (CSS shows one),
    with at most ``CHART_POINTS`` points.

    ``measurements`` may be a sample already (``cycles.measurement_reads.chart_sample``); ``total`` is then
    how many there are, for the description. None until the KPI has a baseline or a measurement.
    """
    ordered = sorted(measurements, key=lambda m: (m.measured_on, m.id or 0))
    points = downsample(ordered, CHART_POINTS, lambda m: float(m.kpi_value))
    if cycle.kpi_baseline is None and not points:
        return None
    count = len(ordered) if total is None else total
    unit = cycle.kpi_unit or ""
    # A point's tooltip reads the same in both drawings; worded once, it is half the formatting of the chart.
    tips = [escape(f"{day(m.measured_on)}: {with_unit(m.kpi_value, unit)}") for m in points]
    return Markup("").join(_draw(cycle, points, tips, count, today, layout) for layout in (WIDE, COMPACT))


def _draw(
    cycle: Cycle, points: list[Measurement], tips: list[Markup], count: int, today: date, layout: Layout
) -> Markup:
    unit = cycle.kpi_unit or ""
    kpi_name = cycle.kpi_name or _("KPI")
    # Translated outside the f-strings below: Babel's extractor does not look inside them.
    title = _("Course of the KPI: %(kpi)s", kpi=kpi_name)
    deadline_label = _("Target date")
    empty_label = _("No measurements yet")
    values = [float(m.kpi_value) for m in points]
    for extra in (cycle.kpi_baseline, cycle.kpi_target):
        if extra is not None:
            values.append(float(extra))
    scale = value_scale(values)
    first, last = date_range(cycle, points, today)
    span = (last - first).days
    left, top, right_x = layout.left, layout.top, layout.left + layout.plot_w
    base_y = top + layout.plot_h
    ident = f"kpi-chart-{layout.name}"

    out: list[str] = [
        f'<svg class="chart__svg chart__svg--{layout.name}" viewBox="0 0 {layout.width} {layout.height}" '
        f'width="{layout.width}" height="{layout.height}" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="{FONT}" font-size="12" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(_describe(cycle, points, count, unit))}</desc>',
    ]

    # Grid and value axis.
    out.append('<g class="chart__grid">')
    for tick in scale.ticks:
        y = _f(_y(scale, tick, layout))
        out.append(f'<line x1="{left}" x2="{right_x}" y1="{y}" y2="{y}" stroke="{GRID}" stroke-width="1"/>')
        out.append(
            f'<text x="{left - 8}" y="{y}" dy="0.32em" text-anchor="end" fill="{AXIS}">'
            f"{escape(number(Decimal(str(tick))))}</text>"
        )
    out.append("</g>")

    # Date axis.
    out.append(f'<g class="chart__axis" fill="{AXIS}">')
    out.append(f'<line x1="{left}" x2="{right_x}" y1="{base_y}" y2="{base_y}" stroke="{AXIS}" stroke-width="1"/>')
    ticks = date_ticks(first, last, layout.date_ticks)
    for index, tick in enumerate(ticks):
        x = _f(_x(tick, first, last, layout))
        # The outer labels align with the plot's edges so they never leave the drawing.
        anchor = "start" if index == 0 and not layout.labels_outside else "middle"
        if index == len(ticks) - 1 and not layout.labels_outside:
            anchor = "end"
        out.append(f'<line x1="{x}" x2="{x}" y1="{base_y}" y2="{base_y + 5}" stroke="{AXIS}" stroke-width="1"/>')
        out.append(f'<text x="{x}" y="{base_y + 20}" text-anchor="{anchor}">{escape(short_date(tick, span))}</text>')
    if unit:
        out.append(f'<text x="{left - 8}" y="{top - 10}" text-anchor="end">{escape(shorten(unit, 12))}</text>')
    out.append("</g>")

    if cycle.prototype_target is not None and first <= cycle.prototype_target <= last:
        x = _x(cycle.prototype_target, first, last, layout)
        anchor = "end" if x > right_x - 40 else "middle"
        out.append(
            f'<g class="chart__deadline"><line x1="{_f(x)}" x2="{_f(x)}" y1="{top}" y2="{base_y}" stroke="{AXIS}" '
            f'stroke-width="1" stroke-dasharray="2 4"/><text x="{_f(x)}" y="{top - 8}" text-anchor="{anchor}" '
            f'fill="{AXIS}">{escape(deadline_label)}</text></g>'
        )

    label_ys: list[float] = []
    lines: list[float] = []
    for value, label, colour, css in (
        (cycle.kpi_baseline, _("Baseline"), BASELINE, "chart__baseline"),
        (cycle.kpi_target, _("Target"), TARGET, "chart__target"),
    ):
        if value is None:
            continue
        line_y = _y(scale, float(value), layout)
        lines.append(line_y)
        out.append(
            f'<g class="{css}"><line x1="{left}" x2="{right_x}" y1="{_f(line_y)}" y2="{_f(line_y)}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="7 5"/>'
        )
        text = shorten(with_unit(value, unit))
        if layout.labels_outside:
            # Two labels closer than two text lines would overlap: push the second one away.
            label_y = line_y
            for other in label_ys:
                if abs(label_y - other) < 30:
                    label_y = other + 30 if label_y >= other else other - 30
            label_ys.append(label_y)
            x = right_x + 10
            out.append(
                f'<text x="{x}" y="{_f(label_y - 6)}" fill="{colour}" font-weight="600">'
                f'<tspan x="{x}">{escape(label)}</tspan>'
                f'<tspan x="{x}" dy="1.2em" font-weight="700">{escape(text)}</tspan></text>'
            )
        else:
            label_y = line_y - 6
            for other in label_ys:
                if abs(label_y - other) < 15:
                    label_y = other + 15 if label_y >= other else other - 15
            label_ys.append(label_y)
            out.append(
                f'<text x="{left + 4}" y="{_f(label_y)}" fill="{colour}" font-weight="650">'
                f"{escape(label)} {escape(text)}</text>"
            )
        out.append("</g>")

    if points:
        coords = [(_x(m.measured_on, first, last, layout), _y(scale, float(m.kpi_value), layout)) for m in points]
        if len(coords) > 1:
            path = " ".join(f"{_f(x)},{_f(y)}" for x, y in coords)
            out.append(
                f'<polyline class="chart__line" points="{path}" fill="none" stroke="{ACCENT}" stroke-width="3" '
                'stroke-linejoin="round" stroke-linecap="round"/>'
            )
        out.append('<g class="chart__points">')
        for (x, y), tip in zip(coords, tips, strict=True):
            out.append(
                f'<circle class="chart__point" cx="{_f(x)}" cy="{_f(y)}" r="5" fill="#ffffff" stroke="{ACCENT}" '
                f'stroke-width="3"><title>{tip}</title></circle>'
            )
        last_x, last_y = coords[-1]
        # The latest value, near its point and kept inside the plot, off the baseline's and target's lines.
        anchor = "end" if last_x > left + layout.plot_w * 0.8 else "middle"
        label_y = value_label_y(last_y, lines, LABEL_ASCENT + 2, base_y - LABEL_DESCENT - 1)
        out.append(
            f'<text x="{_f(last_x + (6 if anchor == "end" else 0))}" y="{_f(label_y)}" text-anchor="{anchor}" '
            f'fill="{ACCENT}" font-weight="700">{escape(with_unit(points[-1].kpi_value, unit))}</text>'
        )
        out.append("</g>")
    else:
        out.append(
            f'<text class="chart__empty" x="{left + layout.plot_w / 2}" y="{top + layout.plot_h / 2}" '
            f'text-anchor="middle" fill="{AXIS}">{escape(empty_label)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def _describe(cycle: Cycle, points: list[Measurement], count: int, unit: str) -> str:
    parts = []
    if cycle.kpi_baseline is not None:
        parts.append(_("Baseline %(value)s.", value=with_unit(cycle.kpi_baseline, unit)))
    if cycle.kpi_target is not None:
        parts.append(_("Target %(value)s.", value=with_unit(cycle.kpi_target, unit)))
    if cycle.kpi_direction is not None:
        parts.append(_("Lower is better.") if cycle.kpi_direction == KpiDirection.lower else _("Higher is better."))
    if points:
        parts.append(
            ngettext(
                "%(num)d measurement on %(first)s: %(value)s.",
                "%(num)d measurements from %(first)s to %(last)s, latest %(value)s.",
                count,
                first=day(points[0].measured_on),
                last=day(points[-1].measured_on),
                value=with_unit(points[-1].kpi_value, unit),
            )
        )
    else:
        parts.append(_("No measurements yet."))
    return " ".join(parts)
