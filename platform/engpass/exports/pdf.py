"""The one-page business case as a PDF, drawn on the server with reportlab.

The same content in the same order as the printable page (``templates/exports/business_case_print.html``), with
the same translated strings and the same figures (``cycles/figures.py``), so the two say the same. Long texts are
shortened like the print page's; should a cycle still not fit, the whole sheet is scaled down rather than spill
onto a second page. The layout machinery — fonts, palette, building blocks, the A4 document — is
``pdf_layout.py``, shared with the decision paper, which also takes this sheet's figure table and person-days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from flask_babel import get_translations
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from engpass.accounts.models import User
from engpass.charts import ACCENT
from engpass.cycles.figures import Figure
from engpass.cycles.models import Cycle, Measurement
from engpass.exports.pdf_chart import CHART_W, chart_block
from engpass.exports.pdf_layout import (
    LINE,
    NAME_LIMIT,
    TITLE_LIMIT,
    TONES,
    UNIT_LIMIT,
    WIDTH,
    eyebrow,
    facts,
    layout_table,
    paragraph,
    render,
    shorten_text,
    styles,
)
from engpass.exports.sheet import Labels
from engpass.formatting import day, money, number
from engpass.organizations.models import Organization
from engpass.rollouts.figures import AtScale

KEY_FIGURES = ("euros", "kpi", "payback")


def amount(value: Decimal | None, unit: str | None) -> str:
    return f"{number(value)} {shorten_text(unit or '', UNIT_LIMIT)}".strip() if value is not None else "–"


def person_days(days: Decimal) -> str:
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
        paragraph(_("Bottleneck"), st["h2"]),
        paragraph(shorten_text(cycle.why or "–"), st["body"]),
        paragraph(_("Status quo"), st["h2"]),
        facts(
            [
                (_("Hours per week"), hours),
                (_("Cost per week"), cost),
                (_("KPI"), shorten_text(cycle.kpi_name or "–", NAME_LIMIT)),
                (
                    f"{_('Baseline value')} → {_('Target value')}",
                    f"{amount(cycle.kpi_baseline, cycle.kpi_unit)} → {amount(cycle.kpi_target, cycle.kpi_unit)}",
                ),
                *[(figure.label, figure.value or "–") for figure in figures],
            ],
            width,
            st,
        ),
        *[
            paragraph(figure.formula, st["small"])
            for figure in figures
            if figure.key == "guessed_share" and figure.formula
        ],
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
    effort = person_days(cycle.effort_days) if cycle.effort_days is not None else "–"
    if cycle.prototype_start:
        prototype = f"{day(cycle.prototype_start)} – {day(cycle.prototype_target) if cycle.prototype_target else '…'}"
    else:
        prototype = "–"
    measured = str(len(measurements))
    if measurements:
        measured += " · " + _("latest %(date)s", date=day(measurements[-1].measured_on))
    return [
        paragraph(heading, st["h2"]),
        paragraph(shorten_text(cycle.solution_what or "–"), st["body"]),
        Spacer(0, 3),
        facts(
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


def _result(
    cycle: Cycle,
    measurements: list[Measurement],
    figures: list[Figure],
    labels: Labels,
    today: date,
    width: float,
    st: dict[str, ParagraphStyle],
) -> list[Flowable]:
    heading = _("Result") + (f": {shorten_text(cycle.kpi_name, NAME_LIMIT)}" if cycle.kpi_name else "")
    chart = chart_block(cycle, measurements, labels.direction, today, st)
    keys = []
    for figure in figures:
        if figure.key in KEY_FIGURES:
            keys.append([paragraph(figure.label, st["key_label"])])
            keys.append([paragraph(figure.value or "–", st["key_value"], TONES.get(figure.tone or ""))])
    key_table = layout_table(keys, [width - CHART_W - 16], ("TOPPADDING", (0, 0), (-1, -1), 1))
    layout = layout_table(
        [[chart, key_table]], [CHART_W + 16, width - CHART_W - 16], ("RIGHTPADDING", (0, 0), (-1, -1), 0)
    )
    return [paragraph(heading, st["h2"]), layout]


def figure_table(figures: Sequence[Figure], width: float, st: dict[str, ParagraphStyle]) -> Table:
    """Each figure's label, value (green or red by its tone) and formula, or what it still needs."""
    rows = []
    for figure in figures:
        detail = [paragraph(figure.formula, st["body"])] if figure.formula else []
        if figure.missing:
            detail.append(paragraph(figure.missing, st["small"]))
        rows.append(
            [
                paragraph(figure.label, st["dt"]),
                paragraph(figure.value or "–", st["dd"], TONES.get(figure.tone or "")),
                detail,
            ]
        )
    return layout_table(
        rows,
        [width * 0.27, width * 0.15, width * 0.58],
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
    )


def rate_note(org: Organization, st: dict[str, ParagraphStyle]) -> Paragraph:
    """The organization's hourly rate and working weeks the figures were computed with."""
    text = _(
        "Computed from the measured numbers with an hourly rate of %(rate)s and %(weeks)s working weeks per year"
        " (organization settings).",
        rate=money(org.default_hourly_rate, org.currency),
        weeks=number(org.working_weeks_per_year),
    )
    return paragraph(text, st["small"])


def _figures(figures: list[Figure], org: Organization, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    return [paragraph(_("Business case"), st["h2"]), rate_note(org, st), Spacer(0, 2), figure_table(figures, WIDTH, st)]


def _at_scale(at_scale: AtScale | None, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    """The prototype's proven effect beside the effect at scale, and whether it held at 90 days."""
    if at_scale is None:
        return []
    head = [paragraph("", st["dt"]), paragraph(_("Prototype (proven)"), st["dt"]), paragraph(_("At scale"), st["dt"])]
    rows = [
        [paragraph(r.label, st["dt"]), paragraph(r.prototype, st["dd"]), paragraph(r.at_scale, st["dd"])]
        for r in at_scale.rows
    ]
    table = layout_table(
        [head, *rows], [WIDTH * 0.42, WIDTH * 0.29, WIDTH * 0.29], ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE)
    )
    return [
        paragraph(_("Business case: prototype and at scale"), st["h2"]),
        table,
        paragraph(at_scale.sustained, st["body"]),
    ]


def _decision(cycle: Cycle, labels: Labels, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    out: list[Flowable] = [paragraph(_("Decision"), st["h2"])]
    if labels.decision is None:
        return [*out, paragraph(_("Not decided yet."), st["small"])]
    line = f"<b>{escape(labels.decision)}</b>"
    if cycle.decided_at:
        line += " · " + escape(_("Decided on %(date)s", date=day(cycle.decided_at)))
    out.append(Paragraph(line, st["body"]))
    if cycle.decision_reason:
        out.append(paragraph(shorten_text(cycle.decision_reason), st["body"]))
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
    st = styles()
    currency = org.currency
    column = (WIDTH - 16) / 2
    meta = " · ".join(
        [
            escape(labels.category),
            f"{escape(_('Stage'))}: <b>{escape(labels.stage)}</b>",
            escape(f"{_('Responsible')}: {shorten_text(owner.name, NAME_LIMIT) if owner else '–'}"),
            escape(_("Started %(date)s", date=day(cycle.bottleneck_at))),
        ]
    )
    columns = layout_table(
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
        eyebrow(org, _("Business case"), today, st),
        paragraph(shorten_text(cycle.title, TITLE_LIMIT), st["title"]),
        Paragraph(meta, st["meta"]),
        Spacer(0, 6),
        columns,
        *_result(cycle, measurements, figures, labels, today, WIDTH, st),
        *_figures(figures, org, st),
        *_decision(cycle, labels, st),
        *_at_scale(at_scale, st),
    ]
    return render(org, f"{_('Business case')}: {cycle.title}", [story])
