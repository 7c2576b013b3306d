"""Cycle pages: the board, the table, the cycle page and one form per section of the method.

Every page lives under ``/o/<org_slug>/cycles`` (membership checked, tenant set). Viewers read;
members create and edit; admins and owners also delete. The domain services check the
method's rules; a refusal rolls the transaction back and shows the rule's words on the form,
with everything the user typed kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, func, select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from engpass.accounts.models import User
from engpass.audit.service import record
from engpass.cycles import people, service
from engpass.cycles.business_case import compute
from engpass.cycles.chart import kpi_chart
from engpass.cycles.figures import business_case_figures
from engpass.cycles.forms import (
    BLANK_STEP_ROWS,
    DECISION_HINTS,
    DECISION_LABELS,
    DIRECTION_LABELS,
    MEASURED_IN_FUTURE,
    SOLUTION_TYPE_LABELS,
    STAGE_LABELS,
    STEP_ROWS_MAX,
    BaselineForm,
    BottleneckForm,
    ConfirmForm,
    DecisionForm,
    DeleteForm,
    MeasurementForm,
    NewCycleForm,
    PrototypeForm,
    SolutionForm,
    StageForm,
    TemplateForm,
    enum_value,
)
from engpass.cycles.models import (
    STAGE_ORDER,
    Category,
    Cycle,
    CycleTemplate,
    Decision,
    KpiDirection,
    Measurement,
    SolutionType,
    Stage,
)
from engpass.cycles.plausibility import BASELINE_COSTS, MEASUREMENT_COSTS, Doubt, week_doubts
from engpass.cycles.rules import (
    PROTOTYPE_WEEKS,
    StageRuleViolation,
    default_target,
    problems_to_enter,
    prototype_overdue,
    prototype_too_long,
)
from engpass.cycles.table_query import TableQuery
from engpass.cycles.templates import CATEGORY_LABELS, Suggestion, builtin_suggestions, suggestions_for
from engpass.db import db
from engpass.form_fields import ask_about
from engpass.formatting import day, money, number, percent
from engpass.gateway.web import org_blueprint
from engpass.i18n import today_in
from engpass.organizations.context import current_org
from engpass.organizations.permissions import Action, require_permission

bp = org_blueprint("cycles", __name__, "/cycles")

PAGE_SIZE = 25
BOARD_DECIDED_LIMIT = 8

GUIDANCE = {
    Stage.bottleneck: _l(
        "Name the one bottleneck that slows growth most – not a tool, not a pilot. Say why it is the "
        "biggest lever. Then quantify the status quo: without numbers, nothing can be proven later."
    ),
    Stage.baseline: _l(
        "Measure the process as it is today: hours per week, cost, every step, and one KPI with its "
        "baseline value. These numbers are your later proof. Only then choose a solution."
    ),
    Stage.solution: _l(
        "Choose the smallest solution with the largest effect. Better than the status quo is enough. "
        "Estimate the effort honestly: it decides the payback."
    ),
    Stage.prototype: _l(
        "Build a working prototype in two to four weeks, not six months. Keep the target date. "
        "Start measuring as soon as it runs."
    ),
    Stage.result: _l(
        "Measure the effect against the baseline, regularly and with the same KPI. The measured numbers "
        "are your internal business case. When they are clear, decide."
    ),
    Stage.decided: _l(
        "Scale what works, iterate what almost works, drop what does not – and write down why. "
        "Then name the next bottleneck: strategy is this loop, repeated."
    ),
}

NEXT_ACTION: dict[Stage, tuple[str, Any]] = {
    Stage.bottleneck: ("cycles.baseline", _l("Quantify the status quo")),
    Stage.baseline: ("cycles.solution", _l("Choose the simplest solution")),
    Stage.solution: ("cycles.prototype", _l("Start the prototype")),
    Stage.prototype: ("cycles.measurement_new", _l("Enter a measurement")),
    Stage.result: ("cycles.decision", _l("Decide")),
    Stage.decided: ("cycles.next_cycle", _l("Next bottleneck")),
}

SORT_LABELS = {
    "updated": _l("Last change"),
    "created": _l("Created"),
    "title": _l("Title"),
    "stage": _l("Stage"),
}


# --- small things the templates use --------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    key: str  # overdue | too_long | focus | unmeasured
    kind: str  # danger | warning | info: the CSS modifier
    label: str


@dataclass
class CycleRow:
    cycle: Cycle
    owner_name: str | None
    measurement_count: int
    flags: list[Flag] = field(default_factory=list)


def _today() -> date:
    """Today where the organization works: a prototype is overdue by its calendar, not the server's."""
    return today_in(current_org.timezone)


def _label(labels: dict[Any, Any], value: Any) -> str:
    return str(labels.get(value, value or ""))


@bp.context_processor
def _cycle_helpers() -> dict[str, Any]:
    return {
        "stages": STAGE_ORDER,
        "stage_label": lambda stage: _label(STAGE_LABELS, stage),
        "category_label": lambda category: _label(CATEGORY_LABELS, category),
        "solution_type_label": lambda value: _label(SOLUTION_TYPE_LABELS, value),
        "direction_label": lambda value: _label(DIRECTION_LABELS, value),
        "decision_label": lambda value: _label(DECISION_LABELS, value),
        "decision_hints": DECISION_HINTS,
        "number": number,
        "money": lambda value: money(value, current_org.currency),
        "percent": percent,
        "day": day,
    }


def _flags(cycle: Cycle, measurements: int, today: date) -> list[Flag]:
    flags = []
    if prototype_overdue(cycle, today):
        flags.append(Flag("overdue", "danger", _("Prototype overdue")))
    if prototype_too_long(cycle, today):
        flags.append(Flag("too_long", "warning", _("Prototype > %(weeks)d weeks", weeks=PROTOTYPE_WEEKS)))
    if cycle.focus_warning and cycle.is_open:
        flags.append(Flag("focus", "warning", _("Focus: parallel cycle")))
    if cycle.stage in (Stage.prototype, Stage.result) and measurements == 0:
        flags.append(Flag("unmeasured", "info", _("No measurement yet")))
    return flags


def _cycle_or_404(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    return cycle


# A consultant's "Responsible" may stay empty: the people they could pick are only those already
# responsible for a cycle (cycles/people.py), and a new client has none yet.
NOBODY = 0


def _members() -> list[SelectChoice]:
    """The table's filter: who can be picked as responsible."""
    if g.get("consulting") is None:
        found = people.members(db.session(), current_org.id)
    else:
        found = people.responsible(db.session(), current_org.id)
    return [SelectChoice(str(user_id), name) for user_id, name in found]


def _owner_choices() -> list[SelectChoice]:
    """The pickers of a cycle's "Responsible"; a consultant may leave it to the client."""
    choices = _members()
    if g.get("consulting") is not None:
        choices.insert(0, SelectChoice(str(NOBODY), _("Nobody responsible")))
    return choices


def _self_or_nobody() -> int:
    return current_user.id if g.get("consulting") is None else NOBODY


def _to_show(cycle_id: int, anchor: str | None = None) -> Response:
    return redirect(url_for("cycles.show", cycle_id=cycle_id, _anchor=anchor))


def _status(form: Any, problems: list[Any] | None = None) -> int:
    # A form asking "are these values right?" saved nothing either.
    return 422 if form.errors or problems or getattr(form, "doubts", ()) else 200


# --- board and table -----------------------------------------------------------------------------


def _rows(stmt: Select[Any], today: date) -> tuple[list[CycleRow], list[Any]]:
    """Cycles with their owners (one query) and their measurement counts (one more); also the raw rows."""
    result = db.session.execute(stmt).all()
    counts = service.measurement_counts(db.session(), [row[0].id for row in result])
    rows = []
    for row in result:
        cycle, owner_name = row[0], row[1]
        count = counts.get(cycle.id, 0)
        rows.append(CycleRow(cycle, owner_name, count, _flags(cycle, count, today)))
    return rows, result


def _with_owner() -> Select[Any]:
    return select(Cycle, User.name).outerjoin(User, User.id == Cycle.owner_id)


@bp.route("/")
@require_permission(Action.view_cycles)
def board() -> str:
    today = _today()
    rows, _result = _rows(_with_owner().order_by(Cycle.updated_at.desc(), Cycle.id.desc()), today)
    columns: dict[Stage, list[CycleRow]] = {stage: [] for stage in STAGE_ORDER}
    for row in rows:
        columns[row.cycle.stage].append(row)
    decided_total = len(columns[Stage.decided])
    columns[Stage.decided] = columns[Stage.decided][:BOARD_DECIDED_LIMIT]
    open_rows = [row for row in rows if row.cycle.is_open]
    return render_template(
        "cycles/board.html",
        columns=columns,
        total=len(rows),
        open_rows=open_rows,
        decided_total=decided_total,
        decided_hidden=decided_total - len(columns[Stage.decided]),
    )


@bp.route("/table")
@require_permission(Action.view_cycles)
def table() -> str:
    query = TableQuery.from_args(request.args)
    stmt = query.filter(_with_owner().add_columns(func.count().over().label("total")))
    stmt = query.order(stmt).limit(PAGE_SIZE).offset((query.page - 1) * PAGE_SIZE)
    today = _today()
    result_rows, raw = _rows(stmt, today)
    # The window count rides along with every row: no second query for the pager.
    total = raw[0].total if raw else 0
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template(
        "cycles/table.html",
        rows=result_rows,
        query=query,
        total=total,
        pages=pages,
        members=_members(),
        categories=CATEGORY_LABELS,
        sort_labels=SORT_LABELS,
    )


# --- creating a cycle ----------------------------------------------------------------------------


def _suggestions_by_category() -> dict[str, list[Suggestion]]:
    grouped: dict[str, list[Suggestion]] = {category.value: [] for category in Category}
    for suggestion in suggestions_for(db.session()):
        grouped[suggestion.category.value].append(suggestion)
    return grouped


def _render_new(
    form: NewCycleForm, previous: Cycle | None, others: list[Cycle], status: int, problems: list[Any] | None = None
) -> tuple[str, int]:
    return (
        render_template(
            "cycles/new.html",
            form=form,
            previous=previous,
            others=others,
            problems=problems or [],
            suggestions=_suggestions_by_category(),
        ),
        status,
    )


def _create(form: NewCycleForm, previous: Cycle | None) -> Any:
    others = service.open_cycles(db.session(), exclude_id=previous.id if previous is not None else None)
    if not form.validate_on_submit():
        return _render_new(form, previous, others, _status(form))
    arguments = {
        "title": form.title.data,
        "category": Category(form.category.data),
        "why": form.why.data or "",
        "owner_id": form.owner_id.data or None,
        "actor_id": current_user.id,
        "confirm_second_open": bool(form.confirm_focus.data),
    }
    try:
        if previous is not None:
            cycle = service.start_next_cycle(db.session(), previous, **arguments)
        else:
            cycle = service.create_cycle(db.session(), **arguments)
    except service.FocusConfirmationRequired:
        db.session.rollback()
        form.confirm_focus.errors.append(
            _("Another cycle is still open. Confirm that you want to work on two bottlenecks at once.")
        )
        return _render_new(form, previous, others, 422)
    except StageRuleViolation as refused:
        db.session.rollback()
        return _render_new(form, previous, others, 422, refused.problems)
    cycle_id = cycle.id
    db.session.commit()
    flash(_("Bottleneck named. Next: quantify the status quo."), "success")
    return _to_show(cycle_id)


@bp.route("/new", methods=["GET", "POST"])
@require_permission(Action.create_cycle)
def new() -> Any:
    form = NewCycleForm(owners=_owner_choices())
    if request.method == "GET":
        form.owner_id.data = _self_or_nobody()
        if request.args.get("category") in Category.__members__:
            form.category.data = request.args["category"]
    return _create(form, None)


@bp.route("/<int:cycle_id>/next", methods=["GET", "POST"])
@require_permission(Action.create_cycle)
def next_cycle(cycle_id: int) -> Any:
    previous = _cycle_or_404(cycle_id)
    if previous.stage != Stage.decided and request.method == "GET":
        flash(_("Decide this cycle before picking the next bottleneck."), "warning")
        return _to_show(previous.id, "decision")
    form = NewCycleForm(owners=_owner_choices())
    if request.method == "GET":
        form.owner_id.data = previous.owner_id or _self_or_nobody()
    return _create(form, previous)


# --- the cycle page ------------------------------------------------------------------------------


def _render_show(cycle: Cycle, problems: list[Any] | None = None, status: int = 200) -> tuple[str, int]:
    today = _today()
    measurements = list(cycle.measurements)
    steps = list(cycle.steps)
    chain = service.chain_of(db.session(), cycle)
    owner = db.session.get(User, cycle.owner_id) if cycle.owner_id is not None else None
    case_ = compute(cycle, measurements, current_org.default_hourly_rate)
    next_stage = STAGE_ORDER[cycle.stage_index() + 1] if cycle.is_open else None
    position = next(i for i, c in enumerate(chain) if c.id == cycle.id)
    follower = chain[position + 1] if position + 1 < len(chain) else None
    stage_form = StageForm()
    stage_form.target.choices = [
        SelectChoice(stage.value, STAGE_LABELS[stage]) for stage in STAGE_ORDER if stage != cycle.stage
    ]
    # Preselect the likely move: forward while open, one step back once decided.
    stage_form.target.data = (next_stage or STAGE_ORDER[cycle.stage_index() - 1]).value
    return (
        render_template(
            "cycles/show.html",
            cycle=cycle,
            owner=owner,
            steps=steps,
            minutes_total=sum(step.minutes for step in steps),
            measurements=measurements,
            chain=chain,
            case=case_,
            figures=business_case_figures(
                cycle, measurements, case_, current_org.default_hourly_rate, current_org.currency
            ),
            chart=kpi_chart(cycle, measurements, today),
            flags=_flags(cycle, len(measurements), today),
            guidance=GUIDANCE[cycle.stage],
            next_action=NEXT_ACTION[cycle.stage],
            follower=follower,
            next_stage=next_stage,
            open_for_next=problems_to_enter(cycle, next_stage, len(measurements)) if next_stage else [],
            problems=problems or [],
            stage_form=stage_form,
            today=today,
        ),
        status,
    )


@bp.route("/<int:cycle_id>/")
@require_permission(Action.view_cycles)
def show(cycle_id: int) -> tuple[str, int]:
    return _render_show(_cycle_or_404(cycle_id))


# --- section forms -------------------------------------------------------------------------------


def _attempt(
    action: Callable[[], Any],
    cycle_id: int,
    anchor: str,
    message: str,
    rerender: Callable[[list[Any]], Any],
) -> Any:
    """Run a service call; on a rule's refusal roll back and show the form again with the rule's words."""
    try:
        action()
    except StageRuleViolation as refused:
        db.session.rollback()
        return rerender(refused.problems)
    except service.MeasuredInFuture:
        # The form checked the day already; this is midnight passing in between.
        db.session.rollback()
        return rerender([MEASURED_IN_FUTURE])
    db.session.commit()
    flash(message, "success")
    return _to_show(cycle_id, anchor)


def _render_section(
    template: str, cycle: Cycle, form: Any, problems: list[Any] | None = None, **context: Any
) -> tuple[str, int]:
    return (
        render_template(
            template,
            cycle=cycle,
            form=form,
            problems=problems or [],
            guidance=GUIDANCE.get(context.pop("guidance_stage", cycle.stage)),
            **context,
        ),
        _status(form, problems),
    )


def _form_data(form: Any, names: tuple[str, ...], enums: dict[str, Any] | None = None) -> dict[str, Any]:
    data = {name: getattr(form, name).data for name in names}
    for name, cls in (enums or {}).items():
        data[name] = enum_value(cls, data[name])
    return data


@bp.route("/<int:cycle_id>/bottleneck", methods=["GET", "POST"])
@require_permission(Action.edit_cycle)
def bottleneck(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    form = BottleneckForm(obj=cycle, owners=_owner_choices())
    template = "cycles/form_bottleneck.html"
    if form.validate_on_submit():
        data = _form_data(form, service.BOTTLENECK_FIELDS, {"category": Category})
        data["why"] = data["why"] or ""
        data["owner_id"] = data["owner_id"] or None
        return _attempt(
            lambda: service.update_bottleneck(db.session(), cycle, data, current_user.id),
            cycle_id,
            "bottleneck",
            _("Bottleneck saved."),
            lambda problems: _render_section(template, cycle, form, problems, guidance_stage=Stage.bottleneck),
        )
    return _render_section(template, cycle, form, guidance_stage=Stage.bottleneck)


STEP_KEY = re.compile(r"steps-([0-9]{1,4})-(name|role|minutes|remove)")


def _step_rows(formdata: Any) -> list[dict[str, str]]:
    """The process rows as posted, in order; keys that are no row field are dropped."""
    rows: dict[int, dict[str, str]] = {}
    for key in formdata:
        match = STEP_KEY.fullmatch(key)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = formdata.get(key, "")
    return [rows[index] for index in sorted(rows)][:STEP_ROWS_MAX]


def _with_rows(formdata: Any, rows: list[dict[str, str]]) -> MultiDict[str, str]:
    data: MultiDict[str, str] = MultiDict(
        [(key, value) for key, value in formdata.items(multi=True) if not key.startswith("steps-")]
    )
    for index, row in enumerate(rows):
        for name, value in row.items():
            data.add(f"steps-{index}-{name}", value)
    return data


def _row_action(action: str, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Add rows or move one up or down: the form is shown again, nothing is saved yet."""
    if action == "add":
        room = STEP_ROWS_MAX - len(rows)
        return rows + [{"name": "", "role": "", "minutes": ""} for _ in range(min(BLANK_STEP_ROWS, room))]
    match = re.fullmatch(r"(up|down)-([0-9]{1,4})", action)
    if match:
        index = int(match.group(2))
        other = index - 1 if match.group(1) == "up" else index + 1
        if 0 <= index < len(rows) and 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
    return rows


def _suggestion_for(cycle: Cycle) -> Suggestion | None:
    """The organization's own template for the category first, else the built-in one."""
    options = suggestions_for(db.session(), cycle.category)
    own = [s for s in options if not s.builtin]
    return (own or options or [None])[0]


@bp.route("/<int:cycle_id>/baseline", methods=["GET", "POST"])
@require_permission(Action.edit_cycle)
def baseline(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    template = "cycles/form_baseline.html"
    suggestion = _suggestion_for(cycle)
    if request.method == "POST":
        rows = _step_rows(request.form)
        action = request.form.get("rows", "")
        if action:
            form = BaselineForm(formdata=_with_rows(request.form, _row_action(action, rows)))
            return _render_section(template, cycle, form, suggestion=suggestion, guidance_stage=Stage.baseline)
        form = BaselineForm(formdata=_with_rows(request.form, rows))
    else:
        form = BaselineForm(obj=cycle)
        if cycle.kpi_name is None and suggestion is not None:
            # The category's KPI as a starting point; the user edits it freely.
            form.kpi_name.data = suggestion.kpi_name
            form.kpi_unit.data = suggestion.kpi_unit
            form.kpi_direction.data = suggestion.kpi_direction.value
        for _blank in range(BLANK_STEP_ROWS):
            form.steps.append_entry()
    if form.validate_on_submit():
        data = _form_data(form, service.BASELINE_FIELDS, {"kpi_direction": KpiDirection})
        if ask_about(form, _week_doubts(data, BASELINE_COSTS, cycle)):
            return _render_section(template, cycle, form, suggestion=suggestion, guidance_stage=Stage.baseline)
        steps = [
            service.StepInput(entry.form.name.data, entry.form.role.data or "", entry.form.minutes.data or 0)
            for entry in form.steps
            if not entry.form.remove.data and not entry.form.is_blank()
        ]
        return _attempt(
            lambda: service.save_baseline(db.session(), cycle, data, steps, current_user.id),
            cycle_id,
            "baseline",
            _("Status quo saved."),
            lambda problems: _render_section(
                template, cycle, form, problems, suggestion=suggestion, guidance_stage=Stage.baseline
            ),
        )
    return _render_section(template, cycle, form, suggestion=suggestion, guidance_stage=Stage.baseline)


@bp.route("/<int:cycle_id>/solution", methods=["GET", "POST"])
@require_permission(Action.edit_cycle)
def solution(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    form = SolutionForm(obj=cycle)
    template = "cycles/form_solution.html"
    suggestion = _suggestion_for(cycle)
    # Before the status quo is quantified, say so up front rather than only after a refused save.
    waiting = problems_to_enter(cycle, Stage.solution, 0) if cycle.stage_index() < 2 else []
    if form.validate_on_submit():
        data = _form_data(form, service.SOLUTION_FIELDS, {"solution_type": SolutionType})
        return _attempt(
            lambda: service.save_solution(db.session(), cycle, data, current_user.id),
            cycle_id,
            "solution",
            _("Solution saved."),
            lambda problems: _render_section(
                template, cycle, form, problems, suggestion=suggestion, waiting=[], guidance_stage=Stage.solution
            ),
        )
    return _render_section(template, cycle, form, suggestion=suggestion, waiting=waiting, guidance_stage=Stage.solution)


@bp.route("/<int:cycle_id>/prototype", methods=["GET", "POST"])
@require_permission(Action.edit_cycle)
def prototype(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    form = PrototypeForm(obj=cycle)
    template = "cycles/form_prototype.html"
    if request.method == "GET" and cycle.prototype_start is None:
        form.prototype_start.data = _today()
        form.prototype_target.data = default_target(_today())
    if form.validate_on_submit():
        data = _form_data(form, service.PROTOTYPE_FIELDS)
        return _attempt(
            lambda: service.start_prototype(db.session(), cycle, data, current_user.id),
            cycle_id,
            "prototype",
            _("Prototype scheduled."),
            lambda problems: _render_section(template, cycle, form, problems, guidance_stage=Stage.prototype),
        )
    return _render_section(template, cycle, form, guidance_stage=Stage.prototype)


def _week_doubts(data: dict[str, Any], costs: tuple[str, ...], before: Cycle | Measurement | None) -> list[Doubt]:
    return week_doubts(data, costs, current_org.default_hourly_rate, current_org.currency, before)


def _measurement_or_404(cycle: Cycle, measurement_id: int) -> Measurement:
    measurement = db.session.get(Measurement, measurement_id)
    if measurement is None or measurement.cycle_id != cycle.id:
        abort(404)
    return measurement


def _measurement_form(cycle: Cycle, measurement: Measurement | None) -> Any:
    form = MeasurementForm(obj=measurement, not_before=cycle.prototype_start, not_after=_today())
    template = "cycles/form_measurement.html"
    if request.method == "GET" and measurement is None:
        form.measured_on.data = _today()
    not_started = cycle.stage_index() < STAGE_ORDER.index(Stage.prototype)

    def rerender(problems: list[Any]) -> Any:
        return _render_section(
            template, cycle, form, problems, measurement=measurement, not_started=False, guidance_stage=Stage.result
        )

    if form.validate_on_submit():
        data = _form_data(form, service.MEASUREMENT_FIELDS)
        data["note"] = data["note"] or ""
        if ask_about(form, _week_doubts(data, MEASUREMENT_COSTS, measurement)):
            return rerender([])
        if measurement is None:
            return _attempt(
                lambda: service.add_measurement(db.session(), cycle, data, current_user.id),
                cycle.id,
                "result",
                _("Measurement saved."),
                rerender,
            )
        return _attempt(
            lambda: service.update_measurement(db.session(), cycle, measurement, data, current_user.id),
            cycle.id,
            "result",
            _("Measurement updated."),
            rerender,
        )
    return _render_section(
        template, cycle, form, measurement=measurement, not_started=not_started, guidance_stage=Stage.result
    )


@bp.route("/<int:cycle_id>/measurements/new", methods=["GET", "POST"])
@require_permission(Action.record_measurement)
def measurement_new(cycle_id: int) -> Any:
    return _measurement_form(_cycle_or_404(cycle_id), None)


@bp.route("/<int:cycle_id>/measurements/<int:measurement_id>/edit", methods=["GET", "POST"])
@require_permission(Action.record_measurement)
def measurement_edit(cycle_id: int, measurement_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    return _measurement_form(cycle, _measurement_or_404(cycle, measurement_id))


# The POST-only actions also answer GET with a redirect: every organization URL then resolves the
# organization first (login for visitors, 404 for outsiders) instead of a bare 405.
@bp.route("/<int:cycle_id>/measurements/<int:measurement_id>/delete", methods=["GET", "POST"])
@require_permission(Action.record_measurement)
def measurement_delete(cycle_id: int, measurement_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    measurement = _measurement_or_404(cycle, measurement_id)
    if request.method == "GET":
        return _to_show(cycle_id, "result")
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _render_show(cycle, [_("The form has expired. Please submit it again.")], 400)
    try:
        service.delete_measurement(db.session(), cycle, measurement, current_user.id)
    except StageRuleViolation as refused:
        db.session.rollback()
        return _render_show(cycle, refused.problems, 422)
    db.session.commit()
    flash(_("Measurement deleted."), "success")
    return _to_show(cycle_id, "result")


@bp.route("/<int:cycle_id>/decision", methods=["GET", "POST"])
@require_permission(Action.edit_cycle)
def decision(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    form = DecisionForm(obj=cycle)
    template = "cycles/form_decision.html"
    measurements = list(cycle.measurements)
    case_ = compute(cycle, measurements, current_org.default_hourly_rate)
    figures = business_case_figures(cycle, measurements, case_, current_org.default_hourly_rate, current_org.currency)
    if form.validate_on_submit():
        data = _form_data(form, service.DECISION_FIELDS, {"decision": Decision})
        return _attempt(
            lambda: service.decide(db.session(), cycle, data, current_user.id),
            cycle_id,
            "decision",
            _("Decision saved. Strategy is this loop, repeated: name the next bottleneck."),
            lambda problems: _render_section(
                template, cycle, form, problems, figures=figures, guidance_stage=Stage.decided
            ),
        )
    return _render_section(template, cycle, form, figures=figures, guidance_stage=Stage.decided)


@bp.route("/<int:cycle_id>/stage", methods=["GET", "POST"])
@require_permission(Action.edit_cycle)
def stage(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    if request.method == "GET":
        return _to_show(cycle_id)
    form = StageForm()
    if not form.validate_on_submit():
        return _render_show(cycle, [_("Please choose one of the stages.")], 422)
    target = Stage(form.target.data)
    backwards = STAGE_ORDER.index(target) < cycle.stage_index()
    try:
        service.change_stage(db.session(), cycle, target, current_user.id)
    except StageRuleViolation as refused:
        db.session.rollback()
        return _render_show(cycle, refused.problems, 422)
    db.session.commit()
    label = STAGE_LABELS[target]
    flash(_("Moved back to %(stage)s.", stage=label) if backwards else _("Moved to %(stage)s.", stage=label), "success")
    return _to_show(cycle_id)


@bp.route("/<int:cycle_id>/delete", methods=["GET", "POST"])
@require_permission(Action.delete_cycle)
def delete(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    form = DeleteForm()
    if form.validate_on_submit():
        title = cycle.title
        service.delete_cycle(db.session(), cycle, current_user.id)
        db.session.commit()
        flash(_("The cycle “%(title)s” was deleted.", title=title), "success")
        return redirect(url_for("cycles.board"))
    measurement_total = service.measurement_count(db.session(), cycle)
    return (
        render_template("cycles/delete.html", cycle=cycle, form=form, measurement_total=measurement_total),
        _status(form),
    )


# --- the organization's templates ----------------------------------------------------------------


def _render_templates(form: TemplateForm) -> tuple[str, int]:
    own = list(db.session.scalars(select(CycleTemplate).order_by(CycleTemplate.category, CycleTemplate.name)))
    builtin: dict[str, list[Suggestion]] = {}
    for suggestion in builtin_suggestions():
        builtin.setdefault(suggestion.category.value, []).append(suggestion)
    return (
        render_template("cycles/templates.html", form=form, own=own, builtin=builtin, categories=CATEGORY_LABELS),
        _status(form),
    )


@bp.route("/templates", methods=["GET", "POST"])
@require_permission(Action.view_templates, write=Action.manage_templates)
def templates() -> Any:
    form = TemplateForm()
    if form.validate_on_submit():
        template = CycleTemplate(
            category=Category(form.category.data),
            name=form.name.data,
            kpi_name=form.kpi_name.data,
            kpi_unit=form.kpi_unit.data,
            kpi_direction=KpiDirection(form.kpi_direction.data),
            solutions=form.solution_lines(),
        )
        db.session.add(template)
        db.session.flush()
        record(
            db.session,
            "cycle_template.created",
            actor_id=current_user.id,
            object_type="cycle_template",
            object_id=template.id,
            name=template.name,
        )
        db.session.commit()
        flash(_("Template saved. It is suggested for new bottlenecks of this category."), "success")
        return redirect(url_for("cycles.templates", _anchor="own"))
    return _render_templates(form)


@bp.route("/templates/<int:template_id>/delete", methods=["GET", "POST"])
@require_permission(Action.manage_templates)
def template_delete(template_id: int) -> Any:
    template = db.session.get(CycleTemplate, template_id)
    if template is None:
        abort(404)
    if request.method == "GET":
        return redirect(url_for("cycles.templates", _anchor="own"))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    record(
        db.session,
        "cycle_template.deleted",
        actor_id=current_user.id,
        object_type="cycle_template",
        object_id=template.id,
        name=template.name,
    )
    db.session.delete(template)
    db.session.commit()
    flash(_("Template deleted."), "success")
    return redirect(url_for("cycles.templates", _anchor="own"))
