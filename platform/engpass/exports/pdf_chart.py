"""The KPI chart of the PDFs, drawn with reportlab graphics: the measured values as a line, baseline and target
dashed, the prototype's target date dotted, on the same value scale and date range as the cycle page's SVG
(``charts.value_scale``, ``cycles/chart.py``); no images."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph

from engpass.charts import ACCENT, GRID, downsample, value_scale
from engpass.cycles.chart import (
    BASELINE,
    CHART_POINTS,
    TARGET,
    date_range,
    date_ticks,
    short_date,
    shorten,
    with_unit,
)
from engpass.cycles.models import Cycle, Measurement
from engpass.exports.pdf_layout import BOLD, MUTED, REGULAR, paragraph, register_fonts
from engpass.formatting import number

CHART_W, CHART_H = 300, 150


def kpi_drawing(cycle: Cycle, measurements: list[Measurement], today: date) -> Drawing:
    """The KPI over time: the measured values as a line, baseline and target dashed, as on the print page, with
    at most ``CHART_POINTS`` of them as there (the first, the last, the lowest and the highest among them)."""
    register_fonts()
    ordered = sorted(measurements, key=lambda m: (m.measured_on, m.id or 0))
    points = downsample(ordered, CHART_POINTS, lambda m: float(m.kpi_value))
    unit = cycle.kpi_unit or ""
    drawing = Drawing(CHART_W, CHART_H)
    left, right, top, bottom = 40, CHART_W - 6, CHART_H - 14, 22
    values = [float(m.kpi_value) for m in points]
    values += [float(v) for v in (cycle.kpi_baseline, cycle.kpi_target) if v is not None]
    scale = value_scale(values or [0.0])
    first, last = date_range(cycle, points, today)
    span = (last - first).days

    def x_at(value: date) -> float:
        return left + (value - first).days / span * (right - left)

    def y_at(value: float) -> float:
        # Scale.at counts downwards like SVG; a drawing's y grows upwards.
        return CHART_H - scale.at(value, CHART_H - top, CHART_H - bottom)

    def text(x: float, y: float, content: str, colour: colors.Color, anchor: str = "start", bold: bool = False) -> None:
        font = BOLD if bold else REGULAR
        drawing.add(String(x, y, content, fontName=font, fontSize=7, fillColor=colour, textAnchor=anchor))

    for tick in scale.ticks:
        y = y_at(tick)
        drawing.add(Line(left, y, right, y, strokeColor=colors.HexColor(GRID), strokeWidth=0.5))
        text(left - 4, y - 2.5, number(Decimal(str(tick))), MUTED, "end")
    drawing.add(Line(left, bottom, right, bottom, strokeColor=MUTED, strokeWidth=0.5))
    ticks = date_ticks(first, last, 4)
    for index, tick in enumerate(ticks):
        anchor = "start" if index == 0 else "end" if index == len(ticks) - 1 else "middle"
        text(x_at(tick), bottom - 10, short_date(tick, span), MUTED, anchor)
    if unit:
        text(0, top + 6, shorten(unit, 12), MUTED)
    if cycle.prototype_target is not None and first <= cycle.prototype_target <= last:
        x = x_at(cycle.prototype_target)
        drawing.add(Line(x, bottom, x, top, strokeColor=MUTED, strokeWidth=0.5, strokeDashArray=[1.5, 3]))
        text(x, top + 4, _("Target date"), MUTED, "end" if x > right - 40 else "middle")

    label_ys: list[float] = []
    for value, label, colour in (
        (cycle.kpi_baseline, _("Baseline"), BASELINE),
        (cycle.kpi_target, _("Target"), TARGET),
    ):
        if value is None:
            continue
        line_y = y_at(float(value))
        stroke = colors.HexColor(colour)
        drawing.add(Line(left, line_y, right, line_y, strokeColor=stroke, strokeWidth=1.2, strokeDashArray=[5, 3.5]))
        # Baseline and target close together: the second label moves so the two stay readable.
        label_y = line_y + 3
        for other in label_ys:
            if abs(label_y - other) < 9:
                label_y = other - 9 if label_y <= other else other + 9
        label_ys.append(label_y)
        text(left + 3, label_y, f"{label} {shorten(with_unit(value, unit))}", stroke, bold=True)

    accent = colors.HexColor(ACCENT)
    if points:
        coords = [(x_at(m.measured_on), y_at(float(m.kpi_value))) for m in points]
        if len(coords) > 1:
            flat = [c for point in coords for c in point]
            drawing.add(PolyLine(flat, strokeColor=accent, strokeWidth=2, strokeLineJoin=1, strokeLineCap=1))
        for x, y in coords:
            drawing.add(Circle(x, y, 2.6, fillColor=colors.white, strokeColor=accent, strokeWidth=1.5))
        last_x, last_y = coords[-1]
        anchor = "end" if last_x > left + (right - left) * 0.8 else "middle"
        text(
            last_x + (3 if anchor == "end" else 0),
            last_y + 6,
            shorten(with_unit(points[-1].kpi_value, unit)),
            accent,
            anchor,
        )
    else:
        text((left + right) / 2, (top + bottom) / 2, _("No measurements yet"), MUTED, "middle")
    return drawing


def legend(cycle: Cycle, direction: str | None, st: dict[str, ParagraphStyle]) -> Paragraph:
    """What the chart's lines are, and which way the KPI should go."""
    parts = [f'<font color="{ACCENT}">━━</font> {escape(_("Measured"))}']
    if cycle.kpi_baseline is not None:
        parts.append(f'<font color="{BASELINE}">╍╍</font> {escape(_("Baseline"))}')
    if cycle.kpi_target is not None:
        parts.append(f'<font color="{TARGET}">╍╍</font> {escape(_("Target"))}')
    if direction:
        parts.append(escape(direction))
    # Paragraphs collapse runs of spaces; non-breaking ones keep the legend's entries apart.
    return Paragraph("&nbsp;&nbsp;&nbsp;".join(parts), st["small"])


def chart_block(
    cycle: Cycle, measurements: list[Measurement], direction: str | None, today: date, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    """The chart with its legend, or a line saying there is nothing to draw yet."""
    if cycle.kpi_baseline is None and not measurements:
        return [paragraph(_("No measurements yet."), st["small"])]
    return [kpi_drawing(cycle, measurements, today), legend(cycle, direction, st)]
