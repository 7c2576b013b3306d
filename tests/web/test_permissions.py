"""The permission matrix: the module, its document, and every (route, method, role) cell with real requests."""

import re

import pytest

from engpass.organizations.models import OrgKind, Role
from engpass.organizations.permissions import MATRIX, Action, allows, markdown_table
from engpass.settings import REPO_ROOT
from tests.support.security import one_of_everything

DOC = REPO_ROOT / "docs" / "permissions.md"
A = Action

# Every organization endpoint and the actions it requires for GET and for POST. A new route fails
# test_every_organization_route_declares_its_action until it is listed here (and in docs/permissions.md).
ENDPOINT_ACTIONS = {
    "organizations.home": (A.view_dashboard, None),
    "organizations.settings": (A.edit_org_settings, A.edit_org_settings),
    "privacy.delete_organization": (A.delete_organization, A.delete_organization),
    "organizations.require_two_factor": (None, A.require_two_factor),
    "sso_settings.index": (A.configure_sso, A.configure_sso),
    "sso_settings.test": (None, A.configure_sso),
    "sso_settings.remove": (None, A.configure_sso),
    "sso_settings.add_domain": (None, A.configure_sso),
    "sso_settings.verify_domain": (None, A.configure_sso),
    "sso_settings.delete_domain": (None, A.configure_sso),
    "sso_settings.require": (None, A.configure_sso),
    "audit.index": (A.view_audit_log, None),
    "reminders.todo": (A.view_todo, None),
    "cycles.board": (A.view_cycles, None),
    "cycles.table": (A.view_cycles, None),
    "cycles.show": (A.view_cycles, None),
    "cycles.new": (A.create_cycle, A.create_cycle),
    "cycles.next_cycle": (A.create_cycle, A.create_cycle),
    "cycles.bottleneck": (A.edit_cycle, A.edit_cycle),
    "cycles.baseline": (A.edit_cycle, A.edit_cycle),
    "cycles.solution": (A.edit_cycle, A.edit_cycle),
    "cycles.prototype": (A.edit_cycle, A.edit_cycle),
    "cycles.decision": (A.edit_cycle, A.decide_cycle),
    "cycles.stage": (A.edit_cycle, A.edit_cycle),
    "cycles.measurement_list": (A.view_cycles, None),
    "cycles.measurement_new": (A.record_measurement, A.record_measurement),
    "cycles.measurement_edit": (A.record_measurement, A.record_measurement),
    "cycles.measurement_delete": (A.record_measurement, A.record_measurement),
    "cycles.indirect_cost_new": (A.edit_cycle, A.edit_cycle),
    "cycles.indirect_cost_edit": (A.edit_cycle, A.edit_cycle),
    "cycles.indirect_cost_delete": (A.edit_cycle, A.edit_cycle),
    "imports.upload": (A.record_measurement, A.record_measurement),
    "rollouts.edit": (A.edit_cycle, A.edit_cycle),
    "rollouts.measurement_new": (A.record_measurement, A.record_measurement),
    "rollouts.measurement_list": (A.view_cycles, None),
    "rollouts.measurement_edit": (A.record_measurement, A.record_measurement),
    "rollouts.measurement_delete": (A.record_measurement, A.record_measurement),
    "imports.preview": (A.record_measurement, A.record_measurement),
    "cycles.delete": (A.delete_cycle, A.delete_cycle),
    "cycles.templates": (A.view_templates, A.manage_templates),
    "cycles.template_delete": (A.manage_templates, A.manage_templates),
    "cycles.template_from_cycle": (A.make_template, A.make_template),
    "team.index": (A.view_team, None),
    "team.invite": (A.invite_members, A.invite_members),
    "team.resend": (A.invite_members, A.invite_members),
    "team.cancel": (A.invite_members, A.invite_members),
    "team.change_role": (A.change_roles, A.change_roles),
    "team.remove": (A.remove_members, A.remove_members),
    "team.leave": (A.leave_organization, A.leave_organization),
    "team.transfer": (A.transfer_ownership, A.transfer_ownership),
    "consulting.client_settings": (A.manage_consultants, A.manage_consultants),
    "consulting.approve": (None, A.manage_consultants),
    "consulting.decline": (None, A.manage_consultants),
    "consulting.revoke": (None, A.manage_consultants),
    "consulting.clients": (A.manage_clients, A.manage_clients),
    "consulting.regenerate_code": (None, A.manage_clients),
    "consulting.portfolio": (A.view_portfolio, None),
    "exports.table_csv": (A.export_cycles, None),
    "exports.table_xlsx": (A.export_cycles, None),
    "exports.business_case_print": (A.view_cycles, None),
    "exports.business_case_pdf": (A.view_cycles, None),
    "exports.decision_paper": (A.view_cycles, None),
    "exports.data": (A.export_organization, A.export_organization),
    "exports.data_status": (A.export_organization, None),
    "exports.data_download": (A.export_organization, None),
    "candidates.index": (A.view_candidates, None),
    "candidates.picked": (A.view_candidates, None),
    "candidates.dismissed": (A.view_candidates, None),
    "candidates.new": (A.propose_candidate, A.propose_candidate),
    "candidates.edit": (A.propose_candidate, A.propose_candidate),
    "candidates.merge": (A.manage_candidates, A.manage_candidates),
    "candidates.dismiss": (A.manage_candidates, A.manage_candidates),
    "candidates.pick": (A.manage_candidates, A.manage_candidates),
    "candidates.reopen": (None, A.manage_candidates),
    "tokens.index": (A.use_api, A.use_api),
    "tokens.revoke": (A.use_api, A.use_api),
    "webhooks.index": (A.manage_webhooks, A.manage_webhooks),
    "webhooks.show": (A.manage_webhooks, A.manage_webhooks),
    "webhooks.rotate": (None, A.manage_webhooks),
    "webhooks.delete": (None, A.manage_webhooks),
    "webhooks.redeliver": (None, A.manage_webhooks),
}

CELLS = [
    (endpoint, method, action, role)
    for endpoint, actions in ENDPOINT_ACTIONS.items()
    for method, action in zip(("GET", "POST"), actions, strict=True)
    if action is not None
    for role in Role
]


def _org_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/o/<org_slug>")]


def test_every_action_has_a_row_and_only_owners_manage_owners():
    assert set(MATRIX) == set(Action)
    assert all(allows(Role.owner, action) for action in Action)
    assert not any(allows(None, action) for action in Action)
    for role in (Role.admin, Role.member, Role.viewer):
        assert not allows(role, A.manage_owners) and not allows(role, A.transfer_ownership)
    # Every right of a lower role is a right of the higher ones too.
    order = [Role.viewer, Role.member, Role.admin, Role.owner]
    for action, roles in MATRIX.items():
        ranks = sorted(order.index(r) for r in roles)
        assert ranks == list(range(ranks[0], 4)), action


def test_the_document_shows_exactly_the_matrix():
    text = DOC.read_text()
    documented = re.search(r"<!-- matrix:start -->\n(.*?)\n<!-- matrix:end -->", text, re.S).group(1)
    assert documented == markdown_table(), "docs/permissions.md differs: paste permissions.markdown_table()"


def test_the_document_names_every_endpoints_action():
    text = DOC.read_text()
    for actions in ENDPOINT_ACTIONS.values():
        for action in actions:
            if action is not None:
                assert f"`{action.value}`" in text


def test_every_organization_route_declares_its_action(app):
    declared = {}
    for rule in _org_rules(app):
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "permissions"), f"{rule.endpoint}: no @require_permission"
        methods = rule.methods - {"HEAD", "OPTIONS"}
        declared[rule.endpoint] = (
            view.permissions["GET"] if "GET" in methods else None,
            view.permissions["POST"] if "POST" in methods else None,
        )
    assert declared == ENDPOINT_ACTIONS


@pytest.fixture
def world(session, make_user, make_org):
    """An organization with its owner, a second person in the role under test, and one of everything
    a route can name: a decided cycle with a measurement, a template, an invitation, a plain member."""

    def _build(role, kind=OrgKind.company):
        owner, person, plain = make_user(name="Owner"), make_user(name="Person"), make_user(name="Plain")
        org = make_org("Rechte GmbH", owner=owner, kind=kind, members={person: role, plain: Role.member})
        return org, person, one_of_everything(session, org, owner, plain)

    return _build


@pytest.mark.parametrize(("endpoint", "method", "action", "role"), CELLS, ids=lambda v: str(v))
def test_every_cell_of_the_matrix_route_by_route(app, client, world, login, endpoint, method, action, role):
    # Pages of one kind of organization only (a consultancy's portfolio, a company's consultants) are
    # walked in that kind: in the other they do not exist (404 for everyone, see test_route_walk.py).
    kind = getattr(app.view_functions[endpoint], "only_for", None) or OrgKind.company
    org, person, values = world(role, kind)
    login(person)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    url = rule.rule.replace("<org_slug>", org.slug)
    url = re.sub(r"<(?:int:)?(\w+)>", lambda m: str(values[m.group(1)]), url)
    response = client.open(url, method=method, data={})
    if allows(role, action):
        assert response.status_code != 403 and response.status_code < 500, (
            f"{role} {method} {url}: {response.status_code}"
        )
    else:
        assert response.status_code == 403, f"{role} {method} {url}: {response.status_code}"


@pytest.mark.parametrize("role", list(Role))
def test_the_navigation_shows_what_the_role_may_open(client, world, login, role):
    org, person, _ = world(role)
    login(person)
    page = client.get(f"/o/{org.slug}/team/").text
    assert (f'href="/o/{org.slug}/settings"' in page) == allows(role, A.edit_org_settings)
    assert (f'href="/o/{org.slug}/audit/"' in page) == allows(role, A.view_audit_log)
    assert ('id="invite"' in page) == allows(role, A.invite_members)
    assert ('id="transfer"' in page) == allows(role, A.transfer_ownership)
    board = client.get(f"/o/{org.slug}/cycles/").text
    assert (f'href="/o/{org.slug}/cycles/new"' in board) == allows(role, A.create_cycle)
