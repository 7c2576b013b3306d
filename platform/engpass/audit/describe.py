"""An audit event's details as a sentence in the reader's language: what changed, from what to what.

The details are stored as recorded (codes, ISO dates, plain numbers as text); only here do they become
"Stufe von Ist-Zustand auf Lösung geändert" or "Stundensatz von 50 € auf 60 € geändert".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engpass.audit.models import AuditEvent
from engpass.candidates.labels import DATA_LABELS, EFFORT_LABELS
from engpass.consulting.forms import LEVEL_SHORT
from engpass.cycles.forms import DECISION_LABELS, DIRECTION_LABELS, PERIOD_LABELS, SOLUTION_TYPE_LABELS, STAGE_LABELS
from engpass.cycles.indirect_costs import KIND_LABELS, SOURCE_LABELS
from engpass.cycles.indirect_costs import PERIOD_LABELS as COST_PERIOD_LABELS
from engpass.cycles.templates import CATEGORY_LABELS
from engpass.formatting import day, money, number
from engpass.i18n import role_label
from engpass.rollouts.labels import REACH_LABELS

TEXT_SHOWN = 80
# What a changed field is called on its form.
FIELD_LABELS = {
    "title": _l("Title"),
    "category": _l("Category"),
    "why": _l("Why this is the biggest lever"),
    "owner_id": _l("Responsible"),
    "sponsor_id": _l("Sponsor"),
    "lessons_worked": _l("What worked"),
    "lessons_failed": _l("What did not work"),
    "lessons_differently": _l("What we would do differently"),
    "hours_per_week": _l("Hours per week"),
    "direct_cost_per_week": _l("Direct cost per week"),
    "indirect_cost_per_week": _l("Indirect cost per week"),
    "kpi_name": _l("KPI"),
    "kpi_unit": _l("Unit"),
    "kpi_direction": _l("Direction"),
    "kpi_baseline": _l("Baseline value"),
    "kpi_target": _l("Target value"),
    "kpi_value_per_unit": _l("Value per unit"),
    "kpi_period": _l("The KPI counts"),
    "forecast_hours_per_week": _l("Forecast: hours per week after"),
    "forecast_kpi": _l("Forecast: KPI value after"),
    "forecast_cost_per_week": _l("Forecast: cost per week after"),
    "steps": _l("Number of process steps"),
    "solution_what": _l("Solution"),
    "solution_type": _l("Type of solution"),
    "expected_effect": _l("Expected effect"),
    "effort_days": _l("Effort in days"),
    "one_off_cost": _l("One-off cost"),
    "running_cost_per_month": _l("Running cost per month"),
    "prototype_start": _l("Prototype start"),
    "prototype_target": _l("Prototype target date"),
    "stage": _l("Stage"),
    "decision": _l("Decision"),
    "decision_reason": _l("Reason"),
    "measured_on": _l("Date"),
    "kpi_value": _l("KPI value"),
    "cost_per_week": _l("Cost per week"),
    "note": _l("Note"),
    "name": _l("Name"),
    "locale": _l("Language"),
    "timezone": _l("Time zone"),
    "currency": _l("Currency"),
    "default_hourly_rate": _l("Hourly rate"),
    "working_weeks_per_year": _l("Working weeks per year"),
    "level": _l("Access"),
    "who_feels_it": _l("Who feels it"),
    "description": _l("Description"),
    "url": _l("URL"),
    "events": _l("Events"),
    "enabled": _l("Active"),
    "effort": _l("Effort"),
    "data_available": _l("Data available"),
    "label": _l("Description"),
    "kind": _l("Kind"),
    "quantity": _l("Quantity"),
    "unit_value": _l("Amount per unit"),
    "people_affected": _l("People affected"),
    "period": _l("Period"),
    "source": _l("Source"),
    "source_note": _l("Where the number comes from"),
    "reach": _l("Reaches"),
    "target_description": _l("Who or what it should reach"),
    "target_count": _l("Target number"),
    "started_on": _l("Start"),
    "target_on": _l("Target date"),
    "reached": _l("Reached"),
}
MONEY_FIELDS = frozenset(
    {
        "direct_cost_per_week",
        "indirect_cost_per_week",
        "one_off_cost",
        "running_cost_per_month",
        "cost_per_week",
        "default_hourly_rate",
        "kpi_value_per_unit",
        "forecast_cost_per_week",
        "unit_value",
    }
)
NUMBER_FIELDS = frozenset(
    {
        "hours_per_week",
        "kpi_baseline",
        "kpi_target",
        "effort_days",
        "kpi_value",
        "steps",
        "forecast_hours_per_week",
        "forecast_kpi",
        "quantity",
        "people_affected",
        "target_count",
        "reached",
    }
)
DATE_FIELDS = frozenset({"prototype_start", "prototype_target", "measured_on", "expires_at", "started_on", "target_on"})
# Codes people know as they are: "CHF", "Europe/Zurich".
PLAIN_FIELDS = frozenset({"currency", "timezone"})
CODE_LABELS: dict[str, Mapping[str, Any]] = {
    field: {member.value: label for member, label in labels.items()}
    for field, labels in (
        ("category", CATEGORY_LABELS),
        ("solution_type", SOLUTION_TYPE_LABELS),
        ("kpi_direction", DIRECTION_LABELS),
        ("kpi_period", PERIOD_LABELS),
        ("decision", DECISION_LABELS),
        ("stage", STAGE_LABELS),
        ("level", LEVEL_SHORT),
        ("effort", EFFORT_LABELS),
        ("data_available", DATA_LABELS),
        ("kind", KIND_LABELS),
        ("period", COST_PERIOD_LABELS),
        ("source", SOURCE_LABELS),
        ("reach", REACH_LABELS),
    )
}
# Whether a webhook sends (webhooks/endpoints.py records the switch as it is).
CODE_LABELS["enabled"] = {True: _l("active"), False: _l("paused")}
EXPORTED_TABLES = {
    "cycles": _l("the cycle table"),
    "measurements": _l("the measurements"),
    "business-cases": _l("the business cases"),
    "indirect-costs": _l("the indirect costs"),
    "workbook": _l("the Excel workbook"),
    "business_case": _l("the business case"),
    "decision_paper": _l("the decision paper"),
}


class _Reader:
    """Formats values for one page: the organization's currency and the people the details name."""

    def __init__(self, names: Mapping[int, str], currency: str) -> None:
        self.names = names
        self.currency = currency

    def person(self, user_id: Any) -> str:
        if not isinstance(user_id, int):
            return _("nobody")
        return self.names.get(user_id) or _("a former member")

    def value(self, field: str, raw: Any) -> str | None:
        """``raw`` in words, or None when it is empty."""
        if raw is None or raw == "" or raw == "None":
            return None
        if field in ("owner_id", "sponsor_id"):
            return self.person(raw)
        if field in CODE_LABELS:
            return str(CODE_LABELS[field].get(raw, _("unknown")))
        if field in PLAIN_FIELDS:
            return str(raw)
        if field == "locale":
            return Locale.parse(str(raw)).get_display_name(get_locale()) or str(raw)
        try:
            if field in MONEY_FIELDS:
                return money(Decimal(str(raw)), self.currency)
            if field in NUMBER_FIELDS:
                return number(Decimal(str(raw)))
            if field in DATE_FIELDS:
                return day(date.fromisoformat(str(raw)[:10]))
        except (InvalidOperation, ValueError):
            pass
        text = " ".join(str(raw).split())
        return f"„{text[:TEXT_SHOWN]}…“" if len(text) > TEXT_SHOWN else f"„{text}“"

    def change(self, field: str, pair: Any) -> str | None:
        old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        label = FIELD_LABELS.get(field, _("another field"))
        before, after = self.value(field, old), self.value(field, new)
        if before is None and after is None:
            return None
        if before is None:
            return _("%(field)s set to %(new)s", field=label, new=after)
        if after is None:
            return _("%(field)s removed (was %(old)s)", field=label, old=before)
        return _("%(field)s changed from %(old)s to %(new)s", field=label, old=before, new=after)

    def changes(self, details: Mapping[str, Any]) -> list[str]:
        found = details.get("changes")
        if not isinstance(found, Mapping):
            return []
        return [text for field, pair in found.items() if (text := self.change(field, pair)) is not None]


def _cycle_created(r: _Reader, d: Mapping[str, Any]) -> list[str]:
    parts = [r.value("title", d.get("title")) or ""]
    if d.get("previous_cycle_id"):
        parts.append(_("the next bottleneck of its chain"))
    if d.get("focus_warning"):
        parts.append(_("named while another cycle was still open"))
    if isinstance(d.get("sponsor_id"), int):
        parts.append(_("sponsor: %(person)s", person=r.person(d["sponsor_id"])))
    return parts


def _merged(r: _Reader, d: Mapping[str, Any]) -> list[str]:
    into = r.value("title", d.get("into_title")) or _("another candidate")
    return [_("%(title)s into %(into)s", title=r.value("title", d.get("title")) or "", into=into), *r.changes(d)]


def _dismissed(r: _Reader, d: Mapping[str, Any]) -> list[str]:
    reason = r.value("why", d.get("reason")) or "–"
    return [r.value("title", d.get("title")) or "", _("reason: %(reason)s", reason=reason)]


def _stage_changed(r: _Reader, d: Mapping[str, Any]) -> list[str]:
    return [*r.changes(d), *([_("a step back")] if d.get("backwards") else [])]


def _access(r: _Reader, d: Mapping[str, Any]) -> list[str]:
    parts = [str(d.get("organization") or _("another organization"))]
    if d.get("level"):
        parts.append(_("%(level)s access", level=r.value("level", d["level"])))
    return parts + r.changes(d)


def _requested(r: _Reader, d: Mapping[str, Any]) -> list[str]:
    level = r.value("level", d.get("level")) or _("unknown")
    if d.get("consultancy"):
        return [_("%(consultancy)s asks for %(level)s access", consultancy=d["consultancy"], level=level)]
    return [_("Asked %(client)s for %(level)s access", client=d.get("client") or _("a client"), level=level)]


def _role(raw: Any) -> str:
    return role_label(str(raw)) if raw else _("unknown")


def _exported(r: _Reader, d: Mapping[str, Any]) -> list[str]:
    what = EXPORTED_TABLES.get(str(d.get("table")), _("a table"))
    rows = d.get("rows") if isinstance(d.get("rows"), int) else 0
    text = _("%(what)s as %(format)s", what=what, format=str(d.get("format") or "").upper())
    parts = [text, _("%(rows)s rows", rows=number(rows))]
    if any(value for value in (d.get("filters") or {}).values()):
        parts.append(_("filtered"))
    return parts


def _token(r: _Reader, d: Mapping[str, Any]) -> list[str]:
    parts = [
        _(
            "%(name)s of %(person)s",
            name=r.value("name", d.get("name")) or _("a token"),
            person=r.person(d.get("user_id")),
        )
    ]
    if d.get("hint"):
        parts.append(_("ending in %(hint)s", hint=d["hint"]))
    expires = r.value("expires_at", d.get("expires_at"))
    if "expires_at" in d:
        parts.append(_("valid until %(day)s", day=expires) if expires else _("valid without end"))
    return parts


_DESCRIBE: dict[str, Callable[[_Reader, Mapping[str, Any]], list[str]]] = {
    "cycle.created": _cycle_created,
    "cycle.deleted": lambda r, d: [r.value("title", d.get("title")) or ""],
    "cycle.stage_changed": _stage_changed,
    "candidate.proposed": lambda r, d: [r.value("title", d.get("title")) or ""],
    "candidate.merged": _merged,
    "candidate.picked": lambda r, d: [r.value("title", d.get("title")) or ""],
    "candidate.dismissed": _dismissed,
    "candidate.reopened": lambda r, d: [r.value("title", d.get("title")) or ""],
    "cycle_template.created": lambda r, d: [r.value("name", d.get("name")) or ""],
    "cycle_template.deleted": lambda r, d: [r.value("name", d.get("name")) or ""],
    "consulting.access_granted": _access,
    "consulting.access_changed": _access,
    "consulting.access_revoked": _access,
    "consulting.request_declined": _access,
    "consulting.access_requested": _requested,
    "member.invited": lambda r, d: [
        _("%(email)s as %(role)s", email=d.get("email") or _("someone"), role=_role(d.get("role")))
    ],
    "invitation.resent": lambda r, d: [str(d.get("email") or "")],
    "invitation.cancelled": lambda r, d: [str(d.get("email") or "")],
    "invitation.accepted": lambda r, d: [_("as %(role)s", role=_role(d.get("role")))],
    "member.role_changed": lambda r, d: [
        _(
            "%(person)s: role changed from %(old)s to %(new)s",
            person=r.person(d.get("user_id")),
            old=_role(d.get("old")),
            new=_role(d.get("new")),
        )
    ],
    "member.removed": lambda r, d: [
        _("%(person)s (%(role)s)", person=r.person(d.get("user_id")), role=_role(d.get("role")))
    ],
    "member.left": lambda r, d: [r.person(d.get("user_id"))],
    "ownership.transferred": lambda r, d: [
        _(
            "%(person)s is now owner, %(previous)s admin",
            person=r.person(d.get("user_id")),
            previous=r.person(d.get("previous_owner_id")),
        )
    ],
    "cycles.exported": _exported,
    "measurements.imported": lambda r, d: [
        _(
            "%(count)s from %(source)s",
            count=number(d.get("count") if isinstance(d.get("count"), int) else 0),
            source=str(d.get("source") or ""),
        ),
    ],
    "api_token.created": _token,
    "api_token.revoked": _token,
    "sso.configured": lambda r, d: [
        _(
            "issuer %(issuer)s, client ID %(client)s, new people join as %(role)s",
            issuer=str(d.get("issuer") or ""),
            client=str(d.get("client_id") or ""),
            role=_role(d.get("default_role")),
        ),
        *([_("new client secret")] if "client_secret" in (d.get("fields") or []) else []),
    ],
    "sso.domain_added": lambda r, d: [str(d.get("domain") or "")],
    "sso.domain_verified": lambda r, d: [str(d.get("domain") or "")],
    "sso.domain_removed": lambda r, d: [str(d.get("domain") or "")],
    "sso.member_joined": lambda r, d: [
        _("%(person)s (%(role)s)", person=r.person(d.get("user_id")), role=_role(d.get("role")))
    ],
    "webhook.created": lambda r, d: [str(d.get("url") or "")],
    "webhook.deleted": lambda r, d: [str(d.get("url") or "")],
    "webhook.secret_rotated": lambda r, d: [str(d.get("url") or "")],
    "webhook.redelivered": lambda r, d: [
        _("delivery %(id)s", id=d["delivery_id"]) if isinstance(d.get("delivery_id"), int) else ""
    ],
}


def describe(event: AuditEvent, names: Mapping[int, str], currency: str) -> str:
    """What happened beyond the action's name, in words; empty when the action says it all."""
    reader = _Reader(names, currency)
    details = event.details or {}
    parts = _DESCRIBE.get(event.action, lambda r, d: r.changes(d))(reader, details)
    return "; ".join(part for part in parts if part)


def people_named(events: list[AuditEvent]) -> set[int]:
    """The user ids the events' details refer to, to look their names up in one query."""
    ids: set[int] = set()
    for event in events:
        details = event.details or {}
        for key in ("user_id", "previous_owner_id"):
            if isinstance(details.get(key), int):
                ids.add(details[key])
        if isinstance(details.get("sponsor_id"), int):
            ids.add(details["sponsor_id"])
        changes = details.get("changes") if isinstance(details.get("changes"), dict) else {}
        for field in ("owner_id", "sponsor_id"):
            if isinstance(changes.get(field), list):
                ids.update(value for value in changes[field] if isinstance(value, int))
    return ids
