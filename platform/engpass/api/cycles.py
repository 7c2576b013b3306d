"""Cycles, their stage, measurements and business case over the API.

Every change goes through ``cycles.service`` — the same rules, audit events and trend recompute
as the cycle pages — in one transaction per request: a refusal rolls everything back (409 with the
rules' own words), so nothing is ever half-saved. Objects of other organizations are not found
by the tenancy layer and answer 404 like missing ones.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from flask import abort, current_app, g, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import aliased

from engpass.accounts.models import User
from engpass.api.blueprint import bp, endpoint
from engpass.api.cycle_schemas import (
    CycleCreateSchema,
    CycleListArgsSchema,
    CyclePageSchema,
    CyclePatchSchema,
    CycleSchema,
    StageChangeSchema,
)
from engpass.api.indirect_costs import document as indirect_cost_document
from engpass.api.measurement_schemas import (
    MeasurementCreateSchema,
    MeasurementListArgsSchema,
    MeasurementPageSchema,
    MeasurementSchema,
)
from engpass.api.paging import decode, page
from engpass.api.problems import ApiProblem, implausible, invalid, rule_violation
from engpass.cycles import measurement_reads, people, service, sponsors
from engpass.cycles.business_case import BusinessCase, compute
from engpass.cycles.forecast import Comparison, compare
from engpass.cycles.models import Cycle, IndirectCostItem, Measurement, ProcessStep, Stage
from engpass.cycles.plausibility import BASELINE_COSTS, MEASUREMENT_COSTS, Doubt, week_doubts
from engpass.cycles.revenue import contribution
from engpass.cycles.rules import StageRuleViolation
from engpass.db import db
from engpass.organizations import memberships
from engpass.organizations.models import Membership
from engpass.organizations.permissions import Action, can_decide

TAG = "Cycles"
# The response fields read straight from the row; the others are computed per document.
OUTPUT_FIELDS = tuple(
    name
    for name in CycleSchema().fields
    if name
    not in (
        "owner_name",
        "sponsor_name",
        "measurement_count",
        "currency",
        "steps",
        "web_url",
        "indirect_cost_items",
        "additional_contribution_per_year",
        "forecast",
    )
)
MEASUREMENT_FIELDS = tuple(name for name in MeasurementSchema().fields if name != "currency")


# --- reading -------------------------------------------------------------------------------------


def cycle_or_404(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    return cycle


def _comparison(comparison: Comparison) -> dict[str, Any]:
    return {"forecast": comparison.forecast, "actual": comparison.actual, "deviation": comparison.deviation}


def effects(cycle: Cycle, measurements: list[Measurement], case: BusinessCase) -> dict[str, Any]:
    """The additional contribution and the forecast against the result (docs/business-case.md)."""
    rate, weeks = g.org.default_hourly_rate, g.org.working_weeks_per_year
    added = contribution(cycle, case.kpi_current, weeks)
    forecast = compare(cycle, measurements, case, rate, weeks)
    return {
        "additional_contribution_per_year": added.per_year if added is not None else None,
        "forecast": {
            "stated": forecast.stated,
            "hours_per_week": _comparison(forecast.hours_per_week),
            "kpi": _comparison(forecast.kpi),
            "savings_per_year": _comparison(forecast.savings_per_year),
            "contribution_per_year": _comparison(forecast.contribution_per_year),
            "achieved_share_percent": forecast.achieved_percent,
        },
    }


def _document(
    cycle: Cycle,
    names: tuple[str | None, str | None],
    measured: tuple[Measurement | None, int],
    steps: list[ProcessStep],
    items: list[IndirectCostItem],
) -> dict[str, Any]:
    settings = current_app.extensions["engpass.settings"]
    document = {name: getattr(cycle, name) for name in OUTPUT_FIELDS}
    latest, count = measured
    measurements = [latest] if latest is not None else []
    case = compute(cycle, measurements, g.org.default_hourly_rate, g.org.working_weeks_per_year)
    document.update(
        effects(cycle, measurements, case),
        owner_name=names[0],
        sponsor_name=names[1],
        measurement_count=count,
        currency=g.org.currency,
        steps=[{"position": s.position, "name": s.name, "role": s.role, "minutes": s.minutes} for s in steps],
        indirect_cost_items=[indirect_cost_document(item) for item in items],
        web_url=settings.base_url.rstrip("/") + url_for("cycles.show", org_slug=g.org.slug, cycle_id=cycle.id),
    )
    return document


def _documents(rows: list[tuple[Cycle, str | None, str | None]]) -> list[dict[str, Any]]:
    """Cycles with their owners' and sponsors' names as documents: three more queries however many cycles and
    measurements there are (the latest measurement of each, which is all the figures need, with their count;
    their steps and their indirect cost items)."""
    ids = [cycle.id for cycle, _owner, _sponsor in rows]
    measured: dict[int, tuple[Measurement, int]] = {}
    steps: dict[int, list[ProcessStep]] = {}
    items: dict[int, list[IndirectCostItem]] = {}
    if ids:
        measured = measurement_reads.latest_of(db.session(), ids)
        step_stmt = select(ProcessStep).where(ProcessStep.cycle_id.in_(ids)).order_by(ProcessStep.position)
        for step in db.session.scalars(step_stmt):
            steps.setdefault(step.cycle_id, []).append(step)
        item_stmt = (
            select(IndirectCostItem)
            .where(IndirectCostItem.cycle_id.in_(ids))
            .order_by(IndirectCostItem.position, IndirectCostItem.id)
        )
        for item in db.session.scalars(item_stmt):
            items.setdefault(item.cycle_id, []).append(item)
    return [
        _document(
            cycle,
            (owner, sponsor),
            measured.get(cycle.id, (None, 0)),
            steps.get(cycle.id, []),
            items.get(cycle.id, []),
        )
        for cycle, owner, sponsor in rows
    ]


def _name(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id is not None else None
    return user.name if user is not None else None


def _one(cycle: Cycle) -> dict[str, Any]:
    return _documents([(cycle, _name(cycle.owner_id), _name(cycle.sponsor_id))])[0]


SPONSOR = aliased(User)


def _with_owner() -> Select[tuple[Cycle, str | None, str | None]]:
    return (
        select(Cycle, User.name, SPONSOR.name)
        .outerjoin(User, User.id == Cycle.owner_id)
        .outerjoin(SPONSOR, SPONSOR.id == Cycle.sponsor_id)
    )


@endpoint("/cycles", "GET", Action.view_cycles, tag=TAG)
@bp.arguments(CycleListArgsSchema, location="query")
@bp.response(200, CyclePageSchema)
def list_cycles(args: dict[str, Any]) -> dict[str, Any]:
    """List the cycles, oldest first.

    Filter like the table view by stage, category, owner and status; `updated_since` finds what
    changed since the last poll. Pages of `limit` cycles; follow `next` (or pass `next_cursor`).
    """
    stmt = _with_owner()
    if "stage" in args:
        stmt = stmt.where(Cycle.stage == args["stage"])
    if "category" in args:
        stmt = stmt.where(Cycle.category == args["category"])
    if "owner_id" in args:
        stmt = stmt.where(Cycle.owner_id == args["owner_id"])
    if args.get("status") == "open":
        stmt = stmt.where(Cycle.stage != Stage.decided)
    elif args.get("status") == "decided":
        stmt = stmt.where(Cycle.stage == Stage.decided)
    if "updated_since" in args:
        # Stored moments are UTC (SQLite compares them as text): compare in UTC.
        stmt = stmt.where(Cycle.updated_at >= args["updated_since"].astimezone(UTC))
    if "cursor" in args:
        (after,) = decode(args["cursor"], 1)
        if not isinstance(after, int):
            raise invalid(
                "cursor", _("This cursor is not valid. Use the next_cursor of the previous page."), location="query"
            )
        stmt = stmt.where(Cycle.id > after)
    limit = args["limit"]
    found = db.session.execute(stmt.order_by(Cycle.id).limit(limit + 1))
    rows = [(cycle, owner, sponsor) for cycle, owner, sponsor in found]
    more = len(rows) > limit
    rows = rows[:limit]
    return page(_documents(rows), limit, [rows[-1][0].id] if more else None)


@endpoint("/cycles/<int:cycle_id>", "GET", Action.view_cycles, tag=TAG)
@bp.response(200, CycleSchema)
def get_cycle(cycle_id: int) -> dict[str, Any]:
    """One cycle with everything the cycle page shows."""
    return _one(cycle_or_404(cycle_id))


# --- changing ------------------------------------------------------------------------------------


def _check_owner(owner_id: int | None) -> None:
    if owner_id is None:
        return
    if g.consulting is not None:
        # Whom a consultant may name is whom the web offers them: asking about anyone else would probe
        # the client's member list, which consultants never see.
        member = any(user_id == owner_id for user_id, _name in people.responsible(db.session(), g.org.id))
    else:
        member = memberships.membership_of(db.session(), g.org.id, owner_id) is not None
    if not member:
        raise rule_violation([_("Please choose a member of this organization.")], "owner_id")


def _check_sponsor(sponsor_id: int | None) -> None:
    """An owner or admin of this organization, or None; a consultant names only those already backing a
    cycle (the web offers them no more). One answer for everyone else, whichever organization they are in."""
    if sponsor_id is None:
        return
    if g.consulting is not None:
        allowed = any(user_id == sponsor_id for user_id, _name in sponsors.sponsoring(db.session(), g.org.id))
    else:
        allowed = sponsors.may_sponsor(db.session(), g.org.id, sponsor_id)
    if not allowed:
        # 409 like the owner: whether the person may back a cycle depends on the organization, not the body.
        raise rule_violation([sponsors.NOT_A_SPONSOR], "sponsor_id")


def _check_decider(cycle: Cycle) -> None:
    """The decision is the sponsor's or an owner's (docs/decisions.md): 403 for everyone else."""
    if not can_decide(cycle.sponsor_id):
        raise ApiProblem(403, _("Only the cycle's sponsor or an owner of the organization records its decision."))


def _refused(problems: list[Any], field: str = "stage") -> ApiProblem:
    db.session.rollback()
    return rule_violation(problems, field)


def second_open_refused(refused: service.FocusConfirmationRequired) -> ApiProblem:
    """The 409 for starting a second open cycle unconfirmed: creating one and picking a candidate alike."""
    titles = ", ".join(f"“{c.title}” ({c.id})" for c in refused.open_cycles)
    message = _(
        "Another cycle is still open: %(titles)s. The method works on one bottleneck at a time; "
        "send confirm_second_open: true to start a second one anyway.",
        titles=titles,
    )
    return _refused([message], "confirm_second_open")


@endpoint("/cycles", "POST", Action.create_cycle, tag=TAG, errors=(409,))
@bp.arguments(CycleCreateSchema)
@bp.response(201, CycleSchema)
def create_cycle(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Name a bottleneck: a new cycle in the stage *bottleneck*.

    With `previous_cycle_id` it is the next cycle after that decided one. While another cycle is
    open the method asks for one bottleneck at a time: 409, unless `confirm_second_open` is true.
    """
    actor = g.api_user
    if "owner_id" in data:
        _check_owner(data["owner_id"])
        owner_id = data["owner_id"]
    else:
        owner_id = actor.id if isinstance(g.membership, Membership) else None
    if "sponsor_id" in data:
        _check_sponsor(data["sponsor_id"])
        sponsor_id = data["sponsor_id"]
    else:
        sponsor_id = sponsors.default_sponsor(db.session(), g.org.id, actor.id) if g.consulting is None else None
    arguments = {
        "title": data["title"],
        "category": data["category"],
        "why": data["why"],
        "owner_id": owner_id,
        "sponsor_id": sponsor_id,
        "actor_id": actor.id,
        "confirm_second_open": data["confirm_second_open"],
    }
    try:
        if "previous_cycle_id" in data:
            previous = db.session.get(Cycle, data["previous_cycle_id"])
            if previous is None:
                raise rule_violation([_("There is no such cycle in this organization.")], "previous_cycle_id")
            cycle = service.start_next_cycle(db.session(), previous, **arguments)
        else:
            cycle = service.create_cycle(db.session(), **arguments)
    except service.FocusConfirmationRequired as refused:
        raise second_open_refused(refused) from None
    except StageRuleViolation as refused:
        raise _refused(refused.problems, "previous_cycle_id") from None
    db.session.commit()
    return _one(cycle), 201, {"Location": url_for("api.get_cycle", cycle_id=cycle.id)}


def _week_doubts(values: dict[str, Any], costs: tuple[str, ...], before: Cycle | None) -> list[Doubt]:
    return week_doubts(values, costs, g.org.default_hourly_rate, g.org.currency, before)


def _check_plausible(data: dict[str, Any], doubts: list[Doubt]) -> None:
    if doubts and not data.get("confirm_implausible"):
        raise implausible(doubts)


def _check_dates(cycle: Cycle, data: dict[str, Any]) -> None:
    start = data.get("prototype_start", cycle.prototype_start)
    target = data.get("prototype_target", cycle.prototype_target)
    if start is not None and target is not None and target < start:
        raise rule_violation([_("The target date cannot be before the start.")], "prototype_target")


def _check_period(cycle: Cycle, data: dict[str, Any]) -> None:
    value = data.get("kpi_value_per_unit", cycle.kpi_value_per_unit)
    if value is not None and data.get("kpi_period", cycle.kpi_period) is None:
        # 409 like the dates: whether it is missing depends on what the cycle holds already.
        message = _("Please choose what span the KPI counts per, so its value can be made yearly.")
        raise rule_violation([message], "kpi_period")


def _save_sections(cycle: Cycle, data: dict[str, Any], actor_id: int) -> None:
    """The cycle's forms in the method's order, each through its service, for the fields sent."""
    session = db.session()

    def part(fields: tuple[str, ...]) -> dict[str, Any] | None:
        values = {name: data[name] for name in fields if name in data}
        return values or None

    if (values := part(service.BOTTLENECK_FIELDS)) is not None:
        service.update_bottleneck(session, cycle, values, actor_id)
    if "sponsor_id" in data:
        sponsors.set_sponsor(session, cycle, data["sponsor_id"], actor_id)
    if (values := part(service.BASELINE_FIELDS)) is not None or "steps" in data:
        steps = (
            [service.StepInput(s["name"], s["role"], s["minutes"]) for s in data["steps"]] if "steps" in data else None
        )
        service.save_baseline(session, cycle, values or {}, steps, actor_id)
    if (values := part(service.SOLUTION_FIELDS)) is not None:
        service.save_solution(session, cycle, values, actor_id)
    if (values := part(service.PROTOTYPE_FIELDS)) is not None:
        # Only the start sent: keep the target there is (the service would put in the default one).
        values.setdefault("prototype_target", cycle.prototype_target)
        service.start_prototype(session, cycle, values, actor_id)
    if (values := part(service.DECISION_FIELDS)) is not None:
        service.decide(session, cycle, values, actor_id)


@endpoint("/cycles/<int:cycle_id>", "PATCH", Action.edit_cycle, tag=TAG, errors=(409,))
@bp.arguments(CyclePatchSchema)
@bp.response(200, CycleSchema)
def update_cycle(data: dict[str, Any], cycle_id: int) -> dict[str, Any]:
    """Change any of a cycle's fields.

    Like the cycle's forms, saving a later stage's data moves the cycle there when the method's
    rules allow it — the solution only after the status quo is quantified, the decision only after
    a measurement. A refusal is a 409 with what is missing, and nothing is saved.
    """
    cycle = cycle_or_404(cycle_id)
    if "owner_id" in data:
        _check_owner(data["owner_id"])
    if "sponsor_id" in data:
        _check_sponsor(data["sponsor_id"])
    if data.keys() & set(service.DECISION_FIELDS):
        # Asked of the sponsor as it is before this request: naming oneself sponsor and deciding at once
        # still needs the right to name the sponsor, which a member editing the cycle has not.
        _check_decider(cycle)
    _check_dates(cycle, data)
    _check_period(cycle, data)
    # The week's figures as they will be, asked about when this request changes them.
    week = {name: data.get(name, getattr(cycle, name)) for name in ("hours_per_week", *BASELINE_COSTS)}
    _check_plausible(data, _week_doubts(week, BASELINE_COSTS, cycle))
    try:
        _save_sections(cycle, data, g.api_user.id)
    except StageRuleViolation as refused:
        raise _refused(refused.problems) from None
    db.session.commit()
    return _one(cycle)


@endpoint("/cycles/<int:cycle_id>", "DELETE", Action.delete_cycle, tag=TAG)
@bp.response(204)
def delete_cycle(cycle_id: int) -> tuple[str, int]:
    """Delete a cycle with its measurements (admins and owners)."""
    service.delete_cycle(db.session(), cycle_or_404(cycle_id), g.api_user.id)
    db.session.commit()
    return "", 204


@endpoint("/cycles/<int:cycle_id>/stage", "POST", Action.edit_cycle, tag=TAG, errors=(409,))
@bp.arguments(StageChangeSchema)
@bp.response(200, CycleSchema)
def change_stage(data: dict[str, Any], cycle_id: int) -> dict[str, Any]:
    """Move the cycle to another stage, with the same rules as the cycle page.

    Forwards only when everything the stages before need is there (409 with what is missing);
    back always, recorded in the history.
    """
    cycle = cycle_or_404(cycle_id)
    if data["stage"] == Stage.decided and cycle.stage != Stage.decided:
        # Entering "decided" records the decision the cycle holds.
        _check_decider(cycle)
    try:
        service.change_stage(db.session(), cycle, data["stage"], g.api_user.id)
    except StageRuleViolation as refused:
        raise _refused(refused.problems) from None
    db.session.commit()
    return _one(cycle)


# --- measurements -------------------------------------------------------------------------------


def _measurement_document(measurement: Measurement) -> dict[str, Any]:
    document = {name: getattr(measurement, name) for name in MEASUREMENT_FIELDS}
    document["currency"] = g.org.currency
    return document


@endpoint("/cycles/<int:cycle_id>/measurements", "GET", Action.view_cycles, tag=TAG)
@bp.arguments(MeasurementListArgsSchema, location="query")
@bp.response(200, MeasurementPageSchema)
def list_measurements(args: dict[str, Any], cycle_id: int) -> dict[str, Any]:
    """The cycle's measured results, by date."""
    cycle = cycle_or_404(cycle_id)
    stmt = select(Measurement).where(Measurement.cycle_id == cycle.id)
    if "cursor" in args:
        after_day, after_id = decode(args["cursor"], 2)
        try:
            after_date = date.fromisoformat(after_day)
        except (TypeError, ValueError):
            after_date = None
        if after_date is None or not isinstance(after_id, int):
            raise invalid(
                "cursor", _("This cursor is not valid. Use the next_cursor of the previous page."), location="query"
            )
        stmt = stmt.where(
            or_(
                Measurement.measured_on > after_date,
                and_(Measurement.measured_on == after_date, Measurement.id > after_id),
            )
        )
    limit = args["limit"]
    rows = list(db.session.scalars(stmt.order_by(Measurement.measured_on, Measurement.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    next_key = [last.measured_on.isoformat(), last.id] if more and last is not None else None
    return page([_measurement_document(m) for m in rows], limit, next_key)


@endpoint("/cycles/<int:cycle_id>/measurements", "POST", Action.record_measurement, tag=TAG, errors=(409,))
@bp.arguments(MeasurementCreateSchema)
@bp.response(201, MeasurementSchema)
def add_measurement(data: dict[str, Any], cycle_id: int) -> tuple[dict[str, Any], int]:
    """Record a measured result. The first one moves a running prototype into the stage *result*."""
    cycle = cycle_or_404(cycle_id)
    if cycle.prototype_start is not None and data["measured_on"] < cycle.prototype_start:
        raise rule_violation([_("A result can only be measured from the prototype's start on.")], "measured_on")
    _check_plausible(data, _week_doubts(data, MEASUREMENT_COSTS, None))
    try:
        measurement = service.add_measurement(db.session(), cycle, data, g.api_user.id)
    except StageRuleViolation as refused:
        raise _refused(refused.problems, "measured_on") from None
    except service.MeasuredInFuture as refused:
        db.session.rollback()
        message = _(
            "A measurement cannot be dated after today (%(today)s in the organization's time zone).",
            today=refused.today.isoformat(),
        )
        # 409, not 422: what is "after today" depends on the day and the organization's time zone.
        raise rule_violation([message], "measured_on") from None
    db.session.commit()
    return _measurement_document(measurement), 201
