"""The decision paper: two A4 pages for the management, the bank or a funding application, drawn with the
business case's layout machinery (``pdf_layout.py``, ``pdf_chart.py``, ``pdf.py``'s figure table).

Page one: what the bottleneck costs a year, what was tried, what was measured and its effect. Page two: what
scaling costs, the payback, the forecast against the result, the lessons and the sponsor's decision. The
figures are the cycle page's (``sheet.load_sheet``, ``paper_content.load_paper``). Each page is kept to its
page: long texts are shortened, and a page still too tall is scaled down rather than spill onto a third.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph, Spacer, Table
from slugify import slugify
from sqlalchemy.orm import Session

from engpass.audit.service import record
from engpass.charts import ACCENT
from engpass.cycles.business_case import latest
from engpass.cycles.figures import Figure
from engpass.cycles.models import Cycle
from engpass.exports.paper_content import Paper, load_paper, rollout_target
from engpass.exports.pdf import amount, figure_table, person_days, rate_note
from engpass.exports.pdf_chart import CHART_W, chart_block
from engpass.exports.pdf_layout import (
    LINE,
    NAME_LIMIT,
    TEXT_LIMIT,
    TITLE_LIMIT,
    TONES,
    WIDTH,
    eyebrow,
    facts,
    layout_table,
    paragraph,
    render,
    shorten_text,
    styles,
)
from engpass.formatting import day, money, number
from engpass.organizations.models import Organization

# A lesson is a few lines; more is shortened, so the second page holds all three and the decision.
LESSON_LIMIT = 500
# The status quo's arithmetic names every indirect cost item: kept to a few lines.
FORMULA_LIMIT = 400
GAP = 16
EFFECT_KEYS = ("hours", "euros", "contribution", "kpi", "target")


def _heading(text: str, st: dict[str, ParagraphStyle]) -> Paragraph:
    return paragraph(text, st["h2"])


def _text(text: str | None, st: dict[str, ParagraphStyle], limit: int = TEXT_LIMIT) -> Paragraph:
    return paragraph(shorten_text(text or "–", limit), st["body"])


def _key_figures(paper: Paper, st: dict[str, ParagraphStyle]) -> Table:
    """At a glance: what the bottleneck costs, what the solution saves, when it pays back, what was decided."""
    by_key = {figure.key: figure for figure in [*paper.sheet.status_quo, *paper.sheet.figures]}
    decision = paper.sheet.labels.decision or _("Decision open")
    cells = [
        (_("Cost of the status quo per year"), by_key["status_quo"].value if "status_quo" in by_key else None, "bad"),
        (_("Savings per year"), by_key["euros"].value, by_key["euros"].tone),
        (_("Payback"), by_key["payback"].value, by_key["payback"].tone),
        (_("Decision"), decision, None),
    ]
    width = WIDTH / len(cells)
    row = [
        [
            paragraph(label, st["key_label"]),
            paragraph(value or "–", st["key_value"], TONES.get(tone or "") if value else None),
        ]
        for label, value, tone in cells
    ]
    return layout_table(
        [row],
        [width] * len(cells),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ("LINEABOVE", (0, 0), (-1, 0), 1.5, colors.HexColor(ACCENT)),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, LINE),
    )


def _missing(paper: Paper, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    """What the paper cannot say yet, in a sentence each, before the figures that stay empty."""
    notes = []
    if not paper.sheet.status_quo:
        notes.append(_("The status quo has no numbers yet: what the bottleneck costs a year is missing."))
    if not paper.sheet.case.measured:
        notes.append(_("No result has been measured yet: the effect and the payback follow once one is."))
    return [paragraph(note, st["body"], TONES["bad"]) for note in notes]


def _costs(paper: Paper, org: Organization, width: float, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    cycle, currency = paper.sheet.cycle, org.currency
    hours = f"{number(cycle.hours_per_week)} {_('h')}" if cycle.hours_per_week is not None else "–"
    weekly = [cost for cost in (cycle.direct_cost_per_week, cycle.indirect_cost_per_week) if cost is not None]
    rows = [
        (_("Hours per week"), hours),
        (_("Cost per week"), money(sum(weekly), currency) if weekly else "–"),
        *[(figure.label, figure.value or "–") for figure in paper.sheet.status_quo],
    ]
    notes = [
        paragraph(shorten_text(figure.formula, FORMULA_LIMIT), st["small"])
        for figure in paper.sheet.status_quo
        if figure.formula
    ]
    return [
        _heading(_("What the bottleneck costs"), st),
        _text(cycle.why, st),
        Spacer(0, 3),
        facts(rows, width, st),
        *notes,
    ]


def _tried(paper: Paper, org: Organization, width: float, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    cycle, labels, currency = paper.sheet.cycle, paper.sheet.labels, org.currency
    if cycle.prototype_start:
        prototype = f"{day(cycle.prototype_start)} – {day(cycle.prototype_target) if cycle.prototype_target else '…'}"
    else:
        prototype = "–"
    rows = [
        (_("Type"), labels.solution_type or "–"),
        (_("Effort"), person_days(cycle.effort_days) if cycle.effort_days is not None else "–"),
        (_("One-off cost"), money(cycle.one_off_cost, currency) if cycle.one_off_cost is not None else "–"),
        (
            _("Running cost per month"),
            money(cycle.running_cost_per_month, currency) if cycle.running_cost_per_month is not None else "–",
        ),
        (_("Prototype"), prototype),
    ]
    return [_heading(_("What we tried"), st), _text(cycle.solution_what, st), Spacer(0, 3), facts(rows, width, st)]


def _measured(paper: Paper, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    sheet = paper.sheet
    cycle, case_ = sheet.cycle, sheet.case
    unit = cycle.kpi_unit
    current = latest(sheet.measurements)
    count = str(len(sheet.measurements))
    if paper.measured_from is not None and paper.measured_to is not None:
        count += f" · {day(paper.measured_from)} – {day(paper.measured_to)}"
    hours_now = current.hours_per_week if current is not None else None
    hours = [f"{number(value)} {_('h')}" if value is not None else "–" for value in (cycle.hours_per_week, hours_now)]
    rows = [
        (_("KPI"), shorten_text(cycle.kpi_name or "–", NAME_LIMIT)),
        (
            f"{_('Baseline value')} → {_('Result')}",
            f"{amount(cycle.kpi_baseline, unit)} → {amount(case_.kpi_current, unit)}",
        ),
        (_("Target value"), amount(cycle.kpi_target, unit)),
        (_("Hours per week"), f"{hours[0]} → {hours[1]}"),
        (_("Measurements"), count),
    ]
    side = WIDTH - CHART_W - GAP
    chart = chart_block(cycle, sheet.measurements, sheet.labels.direction, sheet.today, st)
    layout = layout_table(
        [[chart, facts(rows, side, st)]], [CHART_W + GAP, side], ("RIGHTPADDING", (0, 0), (-1, -1), 0)
    )
    return [_heading(_("What we measured"), st), layout]


def _figures(heading: str, figures: list[Figure], st: dict[str, ParagraphStyle]) -> list[Flowable]:
    return [_heading(heading, st), figure_table(figures, WIDTH, st)]


def _scaling(paper: Paper, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    heading = _heading(_("Cost of scaling"), st)
    if paper.rollout is None:
        return [heading, paragraph(_("Not planned yet."), st["body"])]
    target = paragraph(_("Rollout: %(target)s", target=shorten_text(rollout_target(paper.rollout), 200)), st["body"])
    return [heading, target, Spacer(0, 2), figure_table(paper.scaling, WIDTH, st)]


def _lessons(paper: Paper, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    cycle = paper.sheet.cycle
    lessons = [
        (_("What worked"), cycle.lessons_worked),
        (_("What did not work"), cycle.lessons_failed),
        (_("What we would do differently"), cycle.lessons_differently),
    ]
    heading = _heading(_("Lessons"), st)
    if not any(text and text.strip() for _label, text in lessons):
        return [heading, paragraph(_("No lessons recorded yet."), st["small"])]
    rows = [[paragraph(label, st["dt"]), _text(text, st, LESSON_LIMIT)] for label, text in lessons]
    table = layout_table(
        rows,
        [WIDTH * 0.27, WIDTH * 0.73],
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
    )
    return [heading, table]


def _decision(paper: Paper, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    cycle, labels = paper.sheet.cycle, paper.sheet.labels
    sponsor = shorten_text(paper.sponsor.name, NAME_LIMIT) if paper.sponsor else _("no sponsor named")
    out: list[Flowable] = [_heading(_("The sponsor's decision"), st)]
    if labels.decision is None:
        line = f"<b>{escape(_('Decision open'))}</b> · {escape(_('Sponsor: %(name)s', name=sponsor))}"
        out.append(Paragraph(line, st["body"]))
    else:
        parts = [f"<b>{escape(labels.decision)}</b>"]
        if cycle.decided_at:
            parts.append(escape(_("Decided on %(date)s", date=day(cycle.decided_at))))
        parts.append(escape(_("Sponsor: %(name)s", name=sponsor)))
        out.append(Paragraph(" · ".join(parts), st["body"]))
        if cycle.decision_reason:
            out.append(_text(cycle.decision_reason, st))
    column = (WIDTH - GAP) / 2
    signature = layout_table(
        [
            [Spacer(0, 28), Spacer(0, 28)],
            [paragraph(_("Place, date"), st["small"]), paragraph(_("Signature of the sponsor"), st["small"])],
        ],
        [column + GAP, column],
        ("RIGHTPADDING", (0, 0), (0, -1), GAP),
        ("LINEBELOW", (0, 0), (0, 0), 0.5, LINE),
        ("LINEBELOW", (1, 0), (1, 0), 0.5, LINE),
    )
    return [*out, Spacer(0, 18), signature]


def _head(paper: Paper, org: Organization, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    sheet = paper.sheet
    owner, sponsor = sheet.owner, paper.sponsor
    meta = " · ".join(
        [
            escape(sheet.labels.category),
            f"{escape(_('Stage'))}: <b>{escape(sheet.labels.stage)}</b>",
            escape(f"{_('Responsible')}: {shorten_text(owner.name, NAME_LIMIT) if owner else '–'}"),
            escape(_("Sponsor: %(name)s", name=shorten_text(sponsor.name, NAME_LIMIT) if sponsor else "–")),
            escape(_("Started %(date)s", date=day(sheet.cycle.bottleneck_at))),
        ]
    )
    return [
        eyebrow(org, _("Decision paper"), sheet.today, st),
        paragraph(shorten_text(sheet.cycle.title, TITLE_LIMIT), st["title"]),
        Paragraph(meta, st["meta"]),
        Spacer(0, 8),
    ]


def decision_paper_pdf(org: Organization, paper: Paper) -> bytes:
    """The cycle's decision paper on exactly two A4 pages, in the current language, amounts in ``org``'s
    currency."""
    st = styles()
    sheet = paper.sheet
    column = (WIDTH - GAP) / 2
    columns = layout_table(
        [[_costs(paper, org, column, st), _tried(paper, org, column, st)]],
        [column + GAP, column],
        ("RIGHTPADDING", (0, 0), (0, -1), GAP),
        ("RIGHTPADDING", (1, 0), (1, -1), 0),
    )
    forecast = [figure for figure in sheet.figures if figure.key.startswith("forecast_") or figure.key == "achieved"]
    first = [
        *_head(paper, org, st),
        _key_figures(paper, st),
        Spacer(0, 4),
        *_missing(paper, st),
        columns,
        *_measured(paper, st),
        *_figures(_("The effect"), [figure for figure in sheet.figures if figure.key in EFFECT_KEYS], st),
        rate_note(org, st),
    ]
    second = [
        eyebrow(org, f"{_('Decision paper')} · {shorten_text(sheet.cycle.title, NAME_LIMIT)}", sheet.today, st),
        *_scaling(paper, st),
        *_figures(_("Payback"), paper.payback, st),
        *(_figures(_("Forecast against result"), forecast, st) if forecast else []),
        *_lessons(paper, st),
        *_decision(paper, st),
    ]
    return render(org, f"{_('Decision paper')}: {sheet.cycle.title}", [first, second])


def export_decision_paper(session: Session, org: Organization, cycle: Cycle, actor_id: int) -> tuple[bytes, str]:
    """The cycle's decision paper as a file and its name, the download audited like the business case's: the
    figures leave the application. The caller commits."""
    paper = load_paper(session, org, cycle)
    body = decision_paper_pdf(org, paper)
    record(
        session,
        "cycles.exported",
        actor_id=actor_id,
        object_type="cycle",
        object_id=cycle.id,
        table="decision_paper",
        format="pdf",
        rows=1,
    )
    # Translated outside the f-string: Babel's extractor does not look inside them.
    stem = slugify(f"{_('Decision paper')} {cycle.title}")
    return body, f"{org.slug}-{stem}-{paper.sheet.today.isoformat()}.pdf"
