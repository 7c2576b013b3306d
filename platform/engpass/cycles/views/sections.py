"""The method's section forms — bottleneck, status quo, solution, prototype, measurement, decision — made by
one factory: each ``Section`` says its form, its fields, its service and what its page shows besides;
``handle`` shows, saves or refuses them alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session

from engpass.cycles import measurement_reads, service, sponsors
from engpass.cycles.business_case import compute
from engpass.cycles.effect_figures import complete_figures
from engpass.cycles.forms import (
    BLANK_STEP_ROWS,
    BaselineForm,
    BottleneckForm,
    DecisionForm,
    MeasurementForm,
    PrototypeForm,
    SolutionForm,
)
from engpass.cycles.models import (
    STAGE_ORDER,
    Category,
    Cycle,
    Decision,
    KpiDirection,
    Measurement,
    Period,
    SolutionType,
    Stage,
)
from engpass.cycles.plausibility import BASELINE_COSTS, MEASUREMENT_COSTS, Doubt, week_doubts
from engpass.cycles.rules import default_target, problems_to_enter
from engpass.cycles.templates import Suggestion, suggestions_for
from engpass.cycles.views.common import (
    NOBODY,
    attempt,
    bp,
    cycle_or_404,
    deciders,
    form_data,
    org_today,
    owner_choices,
    render_section,
    sponsor_choices,
    sponsor_of_cycle,
)
from engpass.cycles.views.process_steps import row_action, step_rows, with_rows
from engpass.db import db
from engpass.form_fields import ask_about
from engpass.organizations.context import current_org
from engpass.organizations.permissions import Action, can_decide, require_permission

# What a section's service gets: the session, the cycle, the measurement edited (or None), the form's
# data, the form itself and the acting user's id.
Save = Callable[[Session, Cycle, Any, dict[str, Any], Any, int], object]


@dataclass(frozen=True)
class Section:
    anchor: str  # where the cycle page shows it
    stage: Stage  # whose guidance the form shows
    template: str
    # The form for a cycle (and the measurement edited), given what the page shows besides.
    form: Callable[[Cycle, Any, dict[str, Any]], Any]
    fields: tuple[str, ...]
    save: Save
    saved: Any  # the flash message
    enums: dict[str, Any] = field(default_factory=dict)
    prepare: Callable[[dict[str, Any]], None] | None = None  # empty texts and choices in the service's terms
    doubts: Callable[[dict[str, Any], Cycle, Any], list[Doubt]] | None = None  # asked before saving
    context: Callable[[Cycle, Any], dict[str, Any]] | None = None  # what the page shows besides the form
    # What a refused save shows instead: the rule's words say it better.
    after_refusal: dict[str, Any] = field(default_factory=dict)
    updated: Any = None  # the flash message when an existing measurement was changed
    # The form only rearranged (rows added or moved): show it again, save nothing.
    rearranged: Callable[[], bool] = lambda: False


def handle(section: Section, cycle: Cycle, subject: Any = None) -> Any:
    """Show the section's form; save it when it validates, is not doubted and the method's rules allow it."""
    context = section.context(cycle, subject) if section.context else {}
    form = section.form(cycle, subject, context)

    def show(problems: list[Any] | None = None, **changed: Any) -> Any:
        return render_section(
            section.template, cycle, form, problems, guidance_stage=section.stage, **(context | changed)
        )

    if section.rearranged():
        return show()
    if not form.validate_on_submit():
        return show()
    data = form_data(form, section.fields, section.enums)
    if section.prepare is not None:
        section.prepare(data)
    if section.doubts is not None and ask_about(form, section.doubts(data, cycle, subject)):
        return show([], **section.after_refusal)
    message = section.updated if subject is not None and section.updated is not None else section.saved
    return attempt(
        lambda: section.save(db.session(), cycle, subject, data, form, current_user.id),
        cycle.id,
        section.anchor,
        str(message),
        lambda problems: show(problems, **section.after_refusal),
    )


def _plain(change: Callable[[Session, Cycle, dict[str, Any], int], object]) -> Save:
    """A service that takes the cycle's data and the actor only."""
    return lambda session, cycle, _subject, data, _form, actor_id: change(session, cycle, data, actor_id)


def _week_doubts(data: dict[str, Any], costs: tuple[str, ...], before: Cycle | Measurement | None) -> list[Doubt]:
    return week_doubts(data, costs, current_org.default_hourly_rate, current_org.currency, before)


def _suggestion_for(cycle: Cycle) -> Suggestion | None:
    """The organization's own template for the category first, else the built-in one."""
    options = suggestions_for(db.session(), cycle.category)
    own = [s for s in options if not s.builtin]
    return (own or options or [None])[0]


def _with_suggestion(cycle: Cycle, _subject: Any) -> dict[str, Any]:
    return {"suggestion": _suggestion_for(cycle)}


# --- bottleneck ----------------------------------------------------------------------------------


def _bottleneck_prepare(data: dict[str, Any]) -> None:
    data["why"] = data["why"] or ""
    data["owner_id"] = data["owner_id"] or None
    data["sponsor_id"] = data["sponsor_id"] or None


def _bottleneck_form(cycle: Cycle, _subject: Any, _context: dict[str, Any]) -> BottleneckForm:
    form = BottleneckForm(obj=cycle, owners=owner_choices(), sponsors=sponsor_choices())
    if request.method == "GET" and cycle.sponsor_id is None and g.get("consulting") is not None:
        form.sponsor_id.data = NOBODY
    return form


def _save_bottleneck(
    session: Session, cycle: Cycle, _subject: Any, data: dict[str, Any], _form: Any, actor: int
) -> None:
    sponsor_id = data.pop("sponsor_id")
    service.update_bottleneck(session, cycle, data, actor)
    sponsors.set_sponsor(session, cycle, sponsor_id, actor)


BOTTLENECK = Section(
    anchor="bottleneck",
    stage=Stage.bottleneck,
    template="cycles/form_bottleneck.html",
    form=_bottleneck_form,
    fields=(*service.BOTTLENECK_FIELDS, "sponsor_id"),
    enums={"category": Category},
    prepare=_bottleneck_prepare,
    save=_save_bottleneck,
    saved=_l("Bottleneck saved."),
)


# --- status quo ----------------------------------------------------------------------------------


def _baseline_form(cycle: Cycle, _subject: Any, context: dict[str, Any]) -> BaselineForm:
    if request.method == "POST":
        rows = step_rows(request.form)
        action = request.form.get("rows", "")
        return BaselineForm(formdata=with_rows(request.form, row_action(action, rows) if action else rows))
    form = BaselineForm(obj=cycle)
    suggestion = context["suggestion"]
    if cycle.kpi_name is None and suggestion is not None:
        # The category's KPI as a starting point; the user edits it freely.
        form.kpi_name.data = suggestion.kpi_name
        form.kpi_unit.data = suggestion.kpi_unit
        form.kpi_direction.data = suggestion.kpi_direction.value
    for _blank in range(BLANK_STEP_ROWS):
        form.steps.append_entry()
    return form


def _save_baseline(session: Session, cycle: Cycle, _subject: Any, data: dict[str, Any], form: Any, actor: int) -> None:
    steps = [
        service.StepInput(entry.form.name.data, entry.form.role.data or "", entry.form.minutes.data or 0)
        for entry in form.steps
        if not entry.form.remove.data and not entry.form.is_blank()
    ]
    service.save_baseline(session, cycle, data, steps, actor)


BASELINE = Section(
    anchor="baseline",
    stage=Stage.baseline,
    template="cycles/form_baseline.html",
    form=_baseline_form,
    fields=service.BASELINE_FIELDS,
    enums={"kpi_direction": KpiDirection, "kpi_period": Period},
    doubts=lambda data, cycle, _subject: _week_doubts(data, BASELINE_COSTS, cycle),
    save=_save_baseline,
    saved=_l("Status quo saved."),
    context=_with_suggestion,
    rearranged=lambda: request.method == "POST" and bool(request.form.get("rows", "")),
)


# --- solution ------------------------------------------------------------------------------------


def _solution_context(cycle: Cycle, subject: Any) -> dict[str, Any]:
    # Before the status quo is quantified, say so up front rather than only after a refused save.
    waiting = problems_to_enter(cycle, Stage.solution, 0) if cycle.stage_index() < 2 else []
    return _with_suggestion(cycle, subject) | {"waiting": waiting}


SOLUTION = Section(
    anchor="solution",
    stage=Stage.solution,
    template="cycles/form_solution.html",
    form=lambda cycle, _subject, _context: SolutionForm(obj=cycle),
    fields=service.SOLUTION_FIELDS,
    enums={"solution_type": SolutionType},
    save=_plain(service.save_solution),
    saved=_l("Solution saved."),
    context=_solution_context,
    after_refusal={"waiting": []},
)


# --- prototype -----------------------------------------------------------------------------------


def _prototype_form(cycle: Cycle, _subject: Any, _context: dict[str, Any]) -> PrototypeForm:
    form = PrototypeForm(obj=cycle)
    if request.method == "GET" and cycle.prototype_start is None:
        form.prototype_start.data = org_today()
        form.prototype_target.data = default_target(org_today())
    return form


PROTOTYPE = Section(
    anchor="prototype",
    stage=Stage.prototype,
    template="cycles/form_prototype.html",
    form=_prototype_form,
    fields=service.PROTOTYPE_FIELDS,
    save=_plain(service.start_prototype),
    saved=_l("Prototype scheduled."),
)


# --- measurement ---------------------------------------------------------------------------------


def _measurement_form(cycle: Cycle, measurement: Measurement | None, _context: dict[str, Any]) -> MeasurementForm:
    form = MeasurementForm(obj=measurement, not_before=cycle.prototype_start, not_after=org_today())
    if request.method == "GET" and measurement is None:
        form.measured_on.data = org_today()
    return form


def _measurement_prepare(data: dict[str, Any]) -> None:
    data["note"] = data["note"] or ""


def _save_measurement(
    session: Session, cycle: Cycle, measurement: Measurement | None, data: dict[str, Any], _form: Any, actor: int
) -> None:
    if measurement is None:
        service.add_measurement(session, cycle, data, actor)
    else:
        service.update_measurement(session, cycle, measurement, data, actor)


MEASUREMENT = Section(
    anchor="result",
    stage=Stage.result,
    template="cycles/form_measurement.html",
    form=_measurement_form,
    fields=service.MEASUREMENT_FIELDS,
    prepare=_measurement_prepare,
    doubts=lambda data, _cycle, measurement: _week_doubts(data, MEASUREMENT_COSTS, measurement),
    save=_save_measurement,
    saved=_l("Measurement saved."),
    updated=_l("Measurement updated."),
    context=lambda cycle, measurement: {
        "measurement": measurement,
        "not_started": cycle.stage_index() < STAGE_ORDER.index(Stage.prototype),
    },
    after_refusal={"not_started": False},
)


# --- decision ------------------------------------------------------------------------------------


def _decision_context(cycle: Cycle, _subject: Any) -> dict[str, Any]:
    # The figures read only the latest measurement: one row, however many the cycle has.
    measurements = measurement_reads.latest(db.session(), cycle, 1)
    case_ = compute(cycle, measurements, current_org.default_hourly_rate, current_org.working_weeks_per_year)
    figures = complete_figures(
        cycle,
        measurements,
        case_,
        current_org.default_hourly_rate,
        current_org.working_weeks_per_year,
        current_org.currency,
    )
    return {"figures": figures, "deciders": deciders(cycle), "may_decide": can_decide(cycle.sponsor_id)}


DECISION = Section(
    anchor="decision",
    stage=Stage.decided,
    template="cycles/form_decision.html",
    form=lambda cycle, _subject, _context: DecisionForm(obj=cycle),
    fields=service.DECISION_FIELDS,
    enums={"decision": Decision},
    save=_plain(service.decide),
    saved=_l("Decision saved. Strategy is this loop, repeated: name the next bottleneck."),
    context=_decision_context,
)


def _register(endpoint: str, section: Section) -> None:
    def view(cycle_id: int) -> Any:
        return handle(section, cycle_or_404(cycle_id))

    view.__name__ = endpoint
    bp.add_url_rule(
        f"/<int:cycle_id>/{endpoint}",
        endpoint=endpoint,
        view_func=require_permission(Action.edit_cycle)(view),
        methods=["GET", "POST"],
    )


for _endpoint, _section in (
    ("bottleneck", BOTTLENECK),
    ("baseline", BASELINE),
    ("solution", SOLUTION),
    ("prototype", PROTOTYPE),
):
    _register(_endpoint, _section)


@bp.route("/<int:cycle_id>/decision", methods=["GET", "POST"])
@require_permission(Action.edit_cycle, write=Action.decide_cycle, sponsor_of=sponsor_of_cycle)
def decision(cycle_id: int) -> Any:
    """Everyone who edits the cycle sees the form and who may decide; the sponsor or an owner saves it."""
    return handle(DECISION, cycle_or_404(cycle_id))
