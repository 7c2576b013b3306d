"""The audit log says in words what changed: every kind of event the code writes, with any details it may carry."""

from __future__ import annotations

import ast
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engpass.audit import actions
from engpass.audit.actions import ACTIONS, UnknownAuditEvent
from engpass.audit.describe import CODE_LABELS, EXPORTED_TABLES, FIELD_LABELS, describe
from engpass.audit.models import AuditEvent
from engpass.audit.service import record
from engpass.organizations.models import Role
from engpass.settings import REPO_ROOT

SOURCE = REPO_ROOT / "platform" / "engpass"
# The functions that hand an action name on to audit.service.record, and where that name is among their arguments.
RECORDERS = {"record", "_audit", "_record_in", "_record_both", "_save_section", "_record_measurement", "_record_item"}
ACTION_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")
# What must never reach a reader: a placeholder, a Python dict or None, a snake_case code.
RAW = re.compile(r"[{}]|%\(|\bNone\b|\b[a-z]+_[a-z_]+\b")

# User text as people type it; a code-like word in it would be theirs, not ours.
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß ÄÖÜ-", min_size=1, max_size=90)
ids = st.one_of(st.none(), st.integers(min_value=1, max_value=10**6))
days = st.dates().map(lambda day: day.isoformat())
amounts = st.decimals(min_value=0, max_value=10**9, places=2).map(str)


def _field_value(field: str) -> st.SearchStrategy[Any]:
    if field in CODE_LABELS:
        return st.sampled_from(sorted(CODE_LABELS[field]))
    if field == "owner_id":
        return ids
    if field == "locale":
        return st.sampled_from(["de", "en"])
    return st.one_of(words, amounts, days, st.integers(min_value=0, max_value=500))


changes = st.sampled_from(sorted(FIELD_LABELS)).flatmap(
    lambda field: st.dictionaries(
        st.just(field), st.lists(st.one_of(st.none(), _field_value(field)), min_size=2, max_size=2), min_size=1
    )
)
DETAIL_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "changes": changes,
    "title": words,
    "name": words,
    "email": st.from_regex(r"[a-z]{1,12}@[a-z]{1,12}\.example", fullmatch=True),
    "hint": st.text(alphabet="abcdef0123456789", min_size=4, max_size=4),
    "client": words,
    "consultancy": words,
    "organization": words,
    "level": st.sampled_from(sorted(CODE_LABELS["level"])),
    "role": st.sampled_from([role.value for role in Role]),
    "old": st.sampled_from([role.value for role in Role]),
    "new": st.sampled_from([role.value for role in Role]),
    "user_id": ids,
    "previous_owner_id": ids,
    "measurement_id": ids,
    "item_id": ids,
    "invitation_id": ids,
    "previous_cycle_id": ids,
    "source_cycle_id": ids,
    "sponsor_id": ids,
    "cycle_id": ids,
    "into_id": ids,
    "into_title": words,
    "reason": words,
    "focus_warning": st.booleans(),
    "backwards": st.booleans(),
    "table": st.sampled_from(sorted(EXPORTED_TABLES)),
    "format": st.sampled_from(["csv", "xlsx", "pdf"]),
    "filters": st.dictionaries(st.sampled_from(["stage", "q", "owner"]), st.one_of(st.none(), words), max_size=3),
    "rows": st.integers(min_value=0, max_value=10**6),
    "count": st.integers(min_value=0, max_value=10**6),
    "source": words,
    "expires_at": st.one_of(st.none(), days),
    "issuer": words,
    "client_id": words,
    "default_role": st.sampled_from([role.value for role in Role]),
    "fields": st.lists(st.sampled_from(["issuer", "client_id", "default_role", "client_secret"]), unique=True),
    "domain": words,
    "url": st.from_regex(r"https://[a-z]{1,12}\.example/[a-z]{0,12}", fullmatch=True),
    "events": st.lists(st.sampled_from(["cycle.created", "measurement.created"]), max_size=2),
    "delivery_id": ids,
}


def _events() -> st.SearchStrategy[AuditEvent]:
    def event(action: str) -> st.SearchStrategy[AuditEvent]:
        keys = sorted(ACTIONS[action].details)
        return st.fixed_dictionaries({}, optional={key: DETAIL_VALUES[key] for key in keys}).map(
            lambda details: AuditEvent(action=action, details=details)
        )

    return st.sampled_from(sorted(ACTIONS)).flatmap(event)


def _recorded_actions() -> set[str]:
    """Every action name the platform's code passes to a recorder, found in its source."""
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name not in RECORDERS:
                continue
            for argument in node.args:
                for inner in ast.walk(argument):
                    if (
                        isinstance(inner, ast.Constant)
                        and isinstance(inner.value, str)
                        and ACTION_NAME.match(inner.value)
                    ):
                        found.add(inner.value)
    return found


def test_every_action_the_code_records_is_in_the_registry():
    recorded = _recorded_actions()
    assert len(recorded) >= 30
    assert recorded - set(ACTIONS) == set()
    # And the registry lists nothing the code no longer writes.
    assert set(ACTIONS) - recorded == set()


def test_recording_an_unlisted_action_or_detail_fails():
    with pytest.raises(UnknownAuditEvent):
        actions.check("cycle.renamed", set())
    with pytest.raises(UnknownAuditEvent):
        record(None, "cycle.deleted", actor_id=None, title="x", secret="y")  # type: ignore[arg-type]


@pytest.mark.parametrize("locale", ["de", "en"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=_events())
def test_every_event_reads_as_words(app, locale, event):
    with app.test_request_context(headers={"Accept-Language": locale}):
        text = describe(event, {7: "Jonas Becker"}, "EUR")
        assert not RAW.search(text), f"{event.action} {event.details!r} reads {text!r}"
        assert event.action not in text
        label = str(ACTIONS[event.action].label)
        assert not RAW.search(label) and label != event.action


@pytest.mark.parametrize(
    ("action", "details", "expected"),
    [
        (
            "cycle.stage_changed",
            {"changes": {"stage": ["baseline", "solution"]}},
            "Stufe von Ist-Zustand auf Lösung geändert",
        ),
        (
            "organization.updated",
            {"changes": {"default_hourly_rate": ["50.00", "60.00"]}},
            "Stundensatz von 50\xa0€ auf 60\xa0€ geändert",
        ),
        (
            "measurement.added",
            {"changes": {"kpi_value": [None, "4.5"], "note": [None, None]}},
            "Messwert auf 4,5 gesetzt",
        ),
        (
            "member.role_changed",
            {"user_id": 7, "old": "member", "new": "admin"},
            "Jonas Becker: Rolle von Mitglied auf Administrator geändert",
        ),
    ],
)
def test_examples_in_german(app, action, details, expected):
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert describe(AuditEvent(action=action, details=details), {7: "Jonas Becker"}, "EUR") == expected
