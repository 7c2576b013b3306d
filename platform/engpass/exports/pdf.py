"""The one-page business case as a PDF, drawn on the server with reportlab.

The same content in the same order as the printable page (``templates/exports/business_case_print.html``), with
the same translated strings and the same figures (``cycles/figures.py``), so the two say the same. Long texts are
shortened like the print page's; should a cycle still not fit, the whole sheet is scaled down rather than spill
onto a second page. The fonts are DejaVu Sans (``static/fonts``): the standard PDF fonts have no "−" or "→".
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from flask import current_app
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from jinja2.filters import do_truncate
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, KeepInFrame, PageTemplate, Paragraph, Spacer, Table
from reportlab.platypus import TableStyle as Style

from engpass.accounts.models import User
from engpass.charts import ACCENT, AXIS, GRID, value_scale
from engpass.cycles.chart import BASELINE, TARGET, date_range, date_ticks, short_date, shorten, with_unit
from engpass.cycles.figures import Figure
from engpass.cycles.models import Cycle, Measurement
from engpass.formatting import day, money, number
from engpass.organizations.models import Organization
from engpass.rollouts.figures import AtScale

FONTS = Path(__file__).resolve().parents[1] / "static" / "fonts"
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"

# The print page's palette (static/css/business-case-print.css).
INK = colors.HexColor("#17202e")
INK_2 = colors.HexColor("#3b4657")
MUTED = colors.HexColor(AXIS)
LINE = colors.HexColor("#d9dee5")
TONES = {"good": colors.HexColor("#12683f"), "bad": colors.HexColor("#b42318")}

MARGIN = 14 * mm
FOOTER = 8 * mm
# The print page shortens long texts after this many characters (``truncate(320)``); the title is clamped
# to three lines there, which at the PDF's title size is about this many characters.
TEXT_LIMIT = 320
TITLE_LIMIT = 150
# Names and units are short in practice but may be long: kept to a line or so, like the print page's clamps.
NAME_LIMIT = 60
UNIT_LIMIT = 20
CHART_W, CHART_H = 300, 150

KEY_FIGURES = ("euros", "kpi", "payback")


@dataclass(frozen=True)
class Labels:
    """The cycle's choices in words, in the user's language (``cycles.forms`` and ``cycles.templates`` labels)."""

    category: str
    stage: str
    decision: str | None
    direction: str | None
    solution_type: str | None


def _register_fonts() -> None:
    # reportlab keeps fonts in a process-wide registry: reading the files once is enough.
    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)


def _shorten_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """Jinja's ``truncate``, as the print page applies it (same leeway), ending in an ellipsis character."""
    return do_truncate(current_app.jinja_env, text, limit, end="…")


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=8.5, leading=11, textColor=INK_2)
    return {
        "body": body,
        "eyebrow": ParagraphStyle("eyebrow", body, fontName=BOLD, fontSize=8, textColor=colors.HexColor(ACCENT)),
        "date": ParagraphStyle("date", body, fontSize=8, textColor=MUTED, alignment=TA_RIGHT),
        "title": ParagraphStyle("title", body, fontName=BOLD, fontSize=16, leading=19, textColor=INK, spaceBefore=3),
        "meta": ParagraphStyle("meta", body, textColor=MUTED, spaceBefore=3),
        "h2": ParagraphStyle(
            "h2", body, fontName=BOLD, fontSize=10, leading=13, textColor=INK, spaceBefore=8, spaceAfter=3
        ),
        "dt": ParagraphStyle("dt", body, fontSize=8, textColor=MUTED),
        "dd": ParagraphStyle("dd", body, fontName=BOLD, textColor=INK),
        "small": ParagraphStyle("small", body, fontSize=7.5, leading=9.5, textColor=MUTED),
        "key_label": ParagraphStyle("key_label", body, fontSize=7.5, leading=9.5, textColor=MUTED),
        "key_value": ParagraphStyle("key_value", body, fontName=BOLD, fontSize=13, leading=16, textColor=INK),
    }


def _p(text: str, style: ParagraphStyle, colour: colors.Color | None = None) -> Paragraph:
    markup = escape(text)
    if colour is not None:
        markup = f'<font color="{colour.hexval()}">{markup}</font>'
    return Paragraph(markup, style)


def _amount(value: Decimal | None, unit: str | None) -> str:
    return f"{number(value)} {_shorten_text(unit or '', UNIT_LIMIT)}".strip() if value is not None else "–"


def _table(rows: list[list[Any]], widths: list[float], *commands: tuple[Any, ...]) -> Table:
    """A layout table flush with the text: no outer padding, top-aligned, and on the left should the sheet be
    scaled down (centred, it would drift away from the paragraphs, which widen instead)."""
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    everything = ((0, 0), (-1, -1))
    table.setStyle(Style([("VALIGN", *everything, "TOP"), ("LEFTPADDING", *everything, 0), *commands]))
    return table


def _facts(rows: list[tuple[str, str]], width: float, st: dict[str, ParagraphStyle]) -> Table:
    return _table(
        [[_p(term, st["dt"]), _p(value, st["dd"])] for term, value in rows],
        [width * 0.45, width * 0.55],
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
    )


def _person_days(days: Decimal) -> str:
    # The print page's wording. Flask-Babel's ngettext fills ``num`` with the plural count, so the figure
    # itself ("1,5") goes in afterwards.
    plural = 1 if days == 1 else 2
    return get_translations().ngettext("%(num)s person-day", "%(num)s person-days", plural) % {"num": number(days)}


def _status_quo(
    cycle: Cycle, currency: str, width: float, st: dict[str, ParagraphStyle], figures: Sequence[Figure] = ()
) -> list[Flowable]:
    hours = f"{number(cycle.hours_per_week)} {_('h')}" if cycle.hours_per_week is not None else "–"
    if cycle.direct_cost_per_week is not None or cycle.indirect_cost_per_week is not None:
        cost = money((cycle.direct_cost_per_week or 0) + (cycle.indirect_cost_per_week or 0), currency)
    else:
        cost = "–"
    return [
        _p(_("Bottleneck"), st["h2"]),
        _p(_shorten_text(cycle.why or "–"), st["body"]),
        _p(_("Status quo"), st["h2"]),
        _facts(
            [
                (_("Hours per week"), hours),
                (_("Cost per week"), cost),
                (_("KPI"), _shorten_text(cycle.kpi_name or "–", NAME_LIMIT)),
                (
                    f"{_('Baseline value')} → {_('Target value')}",
                    f"{_amount(cycle.kpi_baseline, cycle.kpi_unit)} → {_amount(cycle.kpi_target, cycle.kpi_unit)}",
                ),
                *[(figure.label, figure.value or "–") for figure in figures],
            ],
            width,
            st,
        ),
        *[_p(figure.formula, st["small"]) for figure in figures if figure.key == "guessed_share" and figure.formula],
    ]


def _solution(
    cycle: Cycle,
    measurements: list[Measurement],
    labels: Labels,
    currency: str,
    width: float,
    st: dict[str, ParagraphStyle],
) -> list[Flowable]:
    heading = _("Solution") + (f" · {labels.solution_type}" if labels.solution_type else "")
    effort = _person_days(cycle.effort_days) if cycle.effort_days is not None else "–"
    if cycle.prototype_start:
        prototype = f"{day(cycle.prototype_start)} – {day(cycle.prototype_target) if cycle.prototype_target else '…'}"
    else:
        prototype = "–"
    measured = str(len(measurements))
    if measurements:
        measured += " · " + _("latest %(date)s", date=day(measurements[-1].measured_on))
    return [
        _p(heading, st["h2"]),
        _p(_shorten_text(cycle.solution_what or "–"), st["body"]),
        Spacer(0, 3),
        _facts(
            [
                (_("Effort"), effort),
                (_("One-off cost"), money(cycle.one_off_cost, currency) if cycle.one_off_cost is not None else "–"),
                (
                    _("Running cost per month"),
                    money(cycle.running_cost_per_month, currency) if cycle.running_cost_per_month is not None else "–",
                ),
                (_("Prototype"), prototype),
                (_("Measurements"), measured),
            ],
            width,
            st,
        ),
    ]


def kpi_drawing(cycle: Cycle, measurements: list[Measurement], today: date) -> Drawing:
    """The KPI over time: the measured values as a line, baseline and target dashed, as on the print page."""
    _register_fonts()
    points = sorted(measurements, key=lambda m: (m.measured_on, m.id or 0))
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


def _legend(cycle: Cycle, labels: Labels, st: dict[str, ParagraphStyle]) -> Paragraph:
    parts = [f'<font color="{ACCENT}">━━</font> {escape(_("Measured"))}']
    if cycle.kpi_baseline is not None:
        parts.append(f'<font color="{BASELINE}">╍╍</font> {escape(_("Baseline"))}')
    if cycle.kpi_target is not None:
        parts.append(f'<font color="{TARGET}">╍╍</font> {escape(_("Target"))}')
    if labels.direction:
        parts.append(escape(labels.direction))
    # Paragraphs collapse runs of spaces; non-breaking ones keep the legend's entries apart.
    return Paragraph("&nbsp;&nbsp;&nbsp;".join(parts), st["small"])


def _result(
    cycle: Cycle,
    measurements: list[Measurement],
    figures: list[Figure],
    labels: Labels,
    today: date,
    width: float,
    st: dict[str, ParagraphStyle],
) -> list[Flowable]:
    heading = _("Result") + (f": {_shorten_text(cycle.kpi_name, NAME_LIMIT)}" if cycle.kpi_name else "")
    if cycle.kpi_baseline is None and not measurements:
        chart: list[Flowable] = [_p(_("No measurements yet."), st["small"])]
    else:
        chart = [kpi_drawing(cycle, measurements, today), _legend(cycle, labels, st)]
    keys = []
    for figure in figures:
        if figure.key in KEY_FIGURES:
            keys.append([_p(figure.label, st["key_label"])])
            keys.append([_p(figure.value or "–", st["key_value"], TONES.get(figure.tone or ""))])
    key_table = _table(keys, [width - CHART_W - 16], ("TOPPADDING", (0, 0), (-1, -1), 1))
    layout = _table([[chart, key_table]], [CHART_W + 16, width - CHART_W - 16], ("RIGHTPADDING", (0, 0), (-1, -1), 0))
    return [_p(heading, st["h2"]), layout]


def _figures(
    figures: list[Figure], rate: str, weeks: int, width: float, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    rows = []
    for figure in figures:
        detail = [_p(figure.formula, st["body"])] if figure.formula else []
        if figure.missing:
            detail.append(_p(figure.missing, st["small"]))
        rows.append(
            [
                _p(figure.label, st["dt"]),
                _p(figure.value or "–", st["dd"], TONES.get(figure.tone or "")),
                detail,
            ]
        )
    table = _table(
        rows,
        [width * 0.27, width * 0.15, width * 0.58],
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
    )
    intro = _(
        "Computed from the measured numbers with an hourly rate of %(rate)s and %(weeks)s working weeks per year"
        " (organization settings).",
        rate=rate,
        weeks=number(weeks),
    )
    return [_p(_("Business case"), st["h2"]), _p(intro, st["small"]), Spacer(0, 2), table]


def _at_scale(at_scale: AtScale | None, width: float, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    """The prototype's proven effect beside the effect at scale, and whether it held at 90 days."""
    if at_scale is None:
        return []
    head = [_p("", st["dt"]), _p(_("Prototype (proven)"), st["dt"]), _p(_("At scale"), st["dt"])]
    rows = [[_p(r.label, st["dt"]), _p(r.prototype, st["dd"]), _p(r.at_scale, st["dd"])] for r in at_scale.rows]
    table = _table(
        [head, *rows], [width * 0.42, width * 0.29, width * 0.29], ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE)
    )
    return [_p(_("Business case: prototype and at scale"), st["h2"]), table, _p(at_scale.sustained, st["body"])]


def _decision(cycle: Cycle, labels: Labels, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    out: list[Flowable] = [_p(_("Decision"), st["h2"])]
    if labels.decision is None:
        return [*out, _p(_("Not decided yet."), st["small"])]
    line = f"<b>{escape(labels.decision)}</b>"
    if cycle.decided_at:
        line += " · " + escape(_("Decided on %(date)s", date=day(cycle.decided_at)))
    out.append(Paragraph(line, st["body"]))
    if cycle.decision_reason:
        out.append(_p(_shorten_text(cycle.decision_reason), st["body"]))
    return out


def business_case_pdf(
    *,
    org: Organization,
    cycle: Cycle,
    owner: User | None,
    measurements: list[Measurement],
    figures: list[Figure],
    labels: Labels,
    today: date,
    status_quo: Sequence[Figure] = (),
    at_scale: AtScale | None = None,
) -> bytes:
    """The cycle's business case on one A4 page, in the current language, amounts in the organization's currency.

    ``figures`` are ``business_case_figures`` for the cycle with the organization's hourly rate; ``today`` is
    the organization's date (the sheet's "as of"); ``status_quo`` the status quo's cost per year and the share
    resting on guesses (``status_quo_figure``, ``guessed_share_figure``), shown with the status quo;
    ``at_scale`` a scaled cycle's rollout figures (``rollouts.figures``).
    """
    _register_fonts()
    st = _styles()
    currency = org.currency
    width, height = A4[0] - 2 * MARGIN, A4[1] - 2 * MARGIN - FOOTER
    column = (width - 16) / 2

    eyebrow = _table(
        [
            [
                _p(f"{org.name} · {_('Business case')}", st["eyebrow"]),
                _p(_("As of %(date)s", date=day(today)), st["date"]),
            ]
        ],
        [width * 0.7, width * 0.3],
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
    )
    meta = " · ".join(
        [
            escape(labels.category),
            f"{escape(_('Stage'))}: <b>{escape(labels.stage)}</b>",
            escape(f"{_('Responsible')}: {_shorten_text(owner.name, NAME_LIMIT) if owner else '–'}"),
            escape(_("Started %(date)s", date=day(cycle.bottleneck_at))),
        ]
    )
    columns = _table(
        [
            [
                _status_quo(cycle, currency, column, st, status_quo),
                _solution(cycle, measurements, labels, currency, column, st),
            ]
        ],
        [column + 16, column],
        ("RIGHTPADDING", (0, 0), (0, -1), 16),
        ("RIGHTPADDING", (1, 0), (1, -1), 0),
        ("LINEABOVE", (0, 0), (-1, 0), 1.5, colors.HexColor(ACCENT)),
    )
    story: list[Flowable] = [
        eyebrow,
        _p(_shorten_text(cycle.title, TITLE_LIMIT), st["title"]),
        Paragraph(meta, st["meta"]),
        Spacer(0, 6),
        columns,
        *_result(cycle, measurements, figures, labels, today, width, st),
        *_figures(figures, money(org.default_hourly_rate, currency), org.working_weeks_per_year, width, st),
        *_decision(cycle, labels, st),
        *_at_scale(at_scale, width, st),
    ]
    footer_left = f"{org.name} · {_('Amounts in %(currency)s', currency=currency)}"
    footer_right = f"Engpass · {_('One bottleneck at a time.')}"

    def footer(canvas: Canvas, _doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, MARGIN + 11, A4[0] - MARGIN, MARGIN + 11)
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, MARGIN, footer_left)
        canvas.drawRightString(A4[0] - MARGIN, MARGIN, footer_right)
        canvas.restoreState()

    out = io.BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        title=f"{_('Business case')}: {cycle.title}",
        author=org.name,
        creator="Engpass",
        lang=str(get_locale() or "de"),
    )
    frame = Frame(MARGIN, MARGIN + FOOTER, width, height, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate("sheet", frames=[frame], onPageEnd=footer)])
    # Whatever the texts, one page: a sheet too tall for the frame is scaled down as a whole.
    doc.build([KeepInFrame(width, height, story, mode="shrink")])
    return out.getvalue()
