"""Walks every API operation: another organization's objects are missing ones (404) for every role, and
each operation asks the permission matrix exactly like the web page that does the same.

The web's walks (test_route_walk.py, test_permissions.py) cover the ``/o/<slug>/`` routes; the API's
organization comes from the token, so it is walked here, operation by operation.
"""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest

from engpass.candidates import service as candidates
from engpass.cycles import indirect_service
from engpass.extensions import limiter
from engpass.organizations.models import Role
from engpass.organizations.permissions import Action, allows
from engpass.rollouts import service as rollouts
from engpass.rollouts.models import Reach
from tests.support.api import bearer, in_org, make_token
from tests.support.cycles import scaled_quoting_cycle
from tests.support.webhooks import webhook_with_a_delivery

A = Action
SECRET = "Geheimprojekt Opfer"
# Fixed at import: yesterday stays in the past however long the run takes.
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()

# Every API operation, the action it requires (the web page's), and a valid body: so that what decides
# the answer is the object and the role, never a validation error.
OPERATIONS = {
    ("api.list_cycles", "GET"): (A.view_cycles, None),
    ("api.create_cycle", "POST"): (A.create_cycle, {"title": "Neu", "category": "leads", "confirm_second_open": True}),
    ("api.get_cycle", "GET"): (A.view_cycles, None),
    ("api.update_cycle", "PATCH"): (A.edit_cycle, {"title": "Gekapert"}),
    ("api.delete_cycle", "DELETE"): (A.delete_cycle, None),
    ("api.change_stage", "POST"): (A.edit_cycle, {"stage": "result"}),
    ("api.list_measurements", "GET"): (A.view_cycles, None),
    ("api.add_measurement", "POST"): (A.record_measurement, {"measured_on": YESTERDAY, "kpi_value": 1}),
    ("api.business_case", "GET"): (A.view_cycles, None),
    ("api.decision_paper", "GET"): (A.view_cycles, None),
    ("api.add_indirect_cost", "POST"): (
        A.edit_cycle,
        {"kind": "other", "unit_value": 10, "period": "week", "source": "estimated"},
    ),
    ("api.update_indirect_cost", "PATCH"): (A.edit_cycle, {"label": "Gekapert"}),
    ("api.delete_indirect_cost", "DELETE"): (A.edit_cycle, None),
    ("api.get_dashboard", "GET"): (A.view_dashboard, None),
    ("api.maturity_history", "GET"): (A.view_dashboard, None),
    ("api.get_radar", "GET"): (A.view_dashboard, None),
    ("api.get_organization", "GET"): (A.view_cycles, None),
    ("api.update_organization", "PATCH"): (A.edit_org_settings, {"default_hourly_rate": "70.00"}),
    ("api.list_candidates", "GET"): (A.view_candidates, None),
    ("api.propose_candidate", "POST"): (A.propose_candidate, {"title": "Neu"}),
    ("api.get_candidate", "GET"): (A.view_candidates, None),
    ("api.update_candidate", "PATCH"): (A.propose_candidate, {"title": "Gekapert"}),
    ("api.merge_candidate", "POST"): (A.manage_candidates, {"into_id": 0}),  # the other open one, see _body
    ("api.pick_candidate", "POST"): (A.manage_candidates, {"confirm_second_open": True}),
    ("api.dismiss_candidate", "POST"): (A.manage_candidates, {"reason": "Kein Hebel"}),
    ("api.reopen_candidate", "POST"): (A.manage_candidates, {}),
    ("api.import_measurements", "POST"): (A.record_measurement, "multipart"),
    ("api.list_webhooks", "GET"): (A.manage_webhooks, None),
    ("api.create_webhook", "POST"): (
        A.manage_webhooks,
        {"url": "https://93.184.215.14/hook", "events": ["cycle.created"]},
    ),
    ("api.get_webhook", "GET"): (A.manage_webhooks, None),
    ("api.update_webhook", "PATCH"): (A.manage_webhooks, {"description": "Gekapert"}),
    ("api.delete_webhook", "DELETE"): (A.manage_webhooks, None),
    ("api.rotate_webhook_secret", "POST"): (A.manage_webhooks, {}),
    ("api.list_webhook_deliveries", "GET"): (A.manage_webhooks, None),
    ("api.redeliver_webhook", "POST"): (A.manage_webhooks, {}),
    ("api.get_rollout", "GET"): (A.view_cycles, None),
    ("api.put_rollout", "PUT"): (
        A.edit_cycle,
        {"reach": "sites", "target_count": 3, "started_on": (date.today() - timedelta(days=10)).isoformat()},
    ),
    ("api.list_rollout_measurements", "GET"): (A.view_cycles, None),
    ("api.add_rollout_measurement", "POST"): (
        A.record_measurement,
        {"measured_on": YESTERDAY, "reached": 2},
    ),
    ("api.update_rollout_measurement", "PATCH"): (A.record_measurement, {"note": "Gekapert"}),
    ("api.delete_rollout_measurement", "DELETE"): (A.record_measurement, None),
}
# Reopening needs a dismissed candidate; every other operation on a candidate takes an open one.
DISMISSED_FOR = {"api.reopen_candidate"}


def _with_an_item(session, cycle, owner):
    """The cycle with one indirect cost item and a rollout with one measurement, so that the item's and the
    measurement's operations reach real ones."""
    values = {"label": "Porto", "kind": "other", "quantity": None, "unit_value": Decimal(10), "people_affected": None}
    values |= {"period": "week", "source": "estimated", "source_note": ""}
    indirect_service.add_item(session, cycle, values, owner.id)
    list(cycle.indirect_cost_items)  # loaded while the tenant is set
    start = date.today() - timedelta(days=10)
    rollout = rollouts.save_rollout(
        session, cycle, {"reach": Reach.people, "target_count": 40, "started_on": start}, None
    )
    measured = rollouts.add_measurement(session, cycle, rollout, {"measured_on": start, "reached": 4}, owner.id)
    cycle.walk_measurement_id = measured.id
    return cycle


def _kwargs(endpoint, body, candidates):
    """The request's body: JSON, or for the file import a small CSV as a dry run."""
    if body is None:
        return {}
    if body == "multipart":
        csv = io.BytesIO(f"Datum;Wert\n{date.today().isoformat()};1\n".encode())
        return {"data": {"file": (csv, "werte.csv"), "dry_run": "true"}, "content_type": "multipart/form-data"}
    return {"json": _body(endpoint, body, candidates)}


def _api_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")]


def _url(rule, cycle_id, candidates=None, item_id=None, webhook=(999_999, 999_999), measurement_id=None):
    """The rule's address for this cycle, its indirect cost item, its rollout measurement, the webhook and its
    delivery and, from ``candidates`` (open, other open, dismissed), the candidate the operation needs; an int
    for every candidate of another organization or a missing one."""
    url = rule.rule.replace("<int:cycle_id>", str(cycle_id)).replace("<int:item_id>", str(item_id or 999_999))
    url = url.replace("<int:webhook_id>", str(webhook[0])).replace("<int:delivery_id>", str(webhook[1]))
    url = url.replace("<int:measurement_id>", str(measurement_id or 999_999))
    if isinstance(candidates, int) or candidates is None:
        return url.replace("<int:candidate_id>", str(candidates if candidates is not None else cycle_id))
    candidate = candidates[2] if rule.endpoint in DISMISSED_FOR else candidates[0]
    return url.replace("<int:candidate_id>", str(candidate))


def _body(endpoint, body, candidates):
    if endpoint == "api.merge_candidate":
        return {"into_id": candidates[1] if isinstance(candidates, tuple) else candidates}
    return body


def _own_candidates(session, org, person):
    """An open candidate proposed by ``person`` (so a member may change it), another open one, a dismissed one."""

    def build(s):
        first = candidates.propose(s, {"title": "Reklamationen"}, person.id)
        second = candidates.propose(s, {"title": "Angebote"}, person.id)
        third = candidates.propose(s, {"title": "Reporting"}, person.id)
        candidates.dismiss(s, third, "Später", person.id)
        return first.id, second.id, third.id

    return in_org(session, org, build)


def _operations(app):
    return [(rule, method) for rule in _api_rules(app) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def test_every_operation_is_listed_with_the_webs_action_and_rate_limited(app):
    declared = {}
    for rule, method in _operations(app):
        view = app.view_functions[rule.endpoint]
        # require_permission keys GET/HEAD and POST; every other writing method asks the POST action.
        declared[(rule.endpoint, method)] = view.permissions.get(method, view.permissions["POST"])
        # Flask-Limiter marks the views it wraps with (a weak proxy of) itself.
        assert getattr(view, "__wrapper-limiter-instance", None) == limiter, f"{rule.endpoint}: no rate limit"
    assert declared == {key: action for key, (action, _body) in OPERATIONS.items()}


@pytest.fixture
def victim(session, make_user, make_org):
    """Another organization with a decided cycle (and its measurement) and a candidate whose title must never
    show."""
    owner = make_user()
    org = make_org("Opfer GmbH", owner=owner)
    cycle = in_org(session, org, lambda s: _with_an_item(s, scaled_quoting_cycle(s, owner, title=SECRET), owner))
    candidate = in_org(session, org, lambda s: candidates.propose(s, {"title": SECRET}, owner.id))
    return org, cycle, candidate.id, _webhook(session, org)


def _webhook(session, org):
    """A webhook with a delivery in ``org``: their ids."""
    endpoint, delivery = in_org(session, org, webhook_with_a_delivery)
    return endpoint.id, delivery.id


def _answer(response):
    body = response.get_json(silent=True) or {}
    return response.status_code, {key: value for key, value in body.items() if key != "instance"}


@pytest.mark.parametrize("role", list(Role))
def test_another_organizations_objects_are_missing_objects_on_every_operation(
    app, client, session, make_user, make_org, victim, role
):
    victim_org, victim_cycle, victim_candidate, victim_webhook = victim
    person = make_user()
    org = make_org("Eigene Firma", owner=make_user(), members={person: role} if role != Role.owner else {})
    if role == Role.owner:
        person = org.memberships[0].user
    token = make_token(session, org, person)
    checked = 0
    for rule, method in _operations(app):
        _action, body = OPERATIONS[(rule.endpoint, method)]
        # A body each: the file import's upload is read once.
        their_url = _url(
            rule,
            victim_cycle.id,
            victim_candidate,
            victim_cycle.indirect_cost_items[0].id,
            victim_webhook,
            victim_cycle.walk_measurement_id,
        )
        theirs = client.open(their_url, method=method, headers=bearer(token), **_kwargs(rule.endpoint, body, 999_998))
        missing = client.open(
            _url(rule, 999_999), method=method, headers=bearer(token), **_kwargs(rule.endpoint, body, 999_998)
        )
        assert SECRET not in theirs.text and "Opfer" not in theirs.text
        names = ("cycle_id", "candidate_id", "item_id", "webhook_id", "measurement_id")
        if not any(f"<int:{name}>" in rule.rule for name in names):
            continue
        # Exactly the answer for an id that does not exist: nothing tells the two apart.
        assert _answer(theirs) == _answer(missing), f"{role} {method} {rule.rule}"
        if allows(role, _action):
            assert theirs.status_code == 404, f"{role} {method} {rule.rule}: {theirs.status_code}"
        else:
            assert theirs.status_code == 403, f"{role} {method} {rule.rule}: {theirs.status_code}"
        checked += 1
    assert checked >= 13
    # Nothing of theirs was changed, nothing of theirs is listed.
    owner_token = make_token(session, victim_org, victim_org.memberships[0].user)
    again = client.get(f"/api/v1/cycles/{victim_cycle.id}", headers=bearer(owner_token)).get_json()
    assert again["title"] == SECRET and again["stage"] == "decided" and again["measurement_count"] == 1


@pytest.fixture
def own(session, make_user, make_org):
    """The role under test in an organization with a decided cycle of its own."""

    def _build(role):
        owner = make_user()
        person = owner if role == Role.owner else make_user()
        org = make_org("Rechte GmbH", owner=owner, members={} if role == Role.owner else {person: role})
        cycle = in_org(session, org, lambda s: _with_an_item(s, scaled_quoting_cycle(s, owner), owner))
        return cycle, _own_candidates(session, org, person), make_token(session, org, person), _webhook(session, org)

    return _build


@pytest.mark.parametrize(
    ("endpoint", "method", "role"),
    [(endpoint, method, role) for (endpoint, method) in OPERATIONS for role in Role],
    ids=str,
)
def test_every_cell_of_the_matrix_operation_by_operation(app, client, own, endpoint, method, role):
    action, body = OPERATIONS[(endpoint, method)]
    cycle, candidates, token, webhook = own(role)
    rule = next(r for r in _api_rules(app) if r.endpoint == endpoint)
    kwargs = _kwargs(endpoint, body, candidates)
    url = _url(rule, cycle.id, candidates, cycle.indirect_cost_items[0].id, webhook, cycle.walk_measurement_id)
    response = client.open(url, method=method, headers=bearer(token), **kwargs)
    if allows(role, action):
        assert response.status_code < 400, f"{role} {method} {rule.rule}: {response.status_code} {response.text}"
    else:
        assert response.status_code == 403, f"{role} {method} {rule.rule}: {response.status_code}"
        assert response.mimetype == "application/problem+json"
