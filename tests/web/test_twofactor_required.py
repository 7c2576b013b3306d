"""An owner can require two-factor authentication: who is sent to set it up, and what is not affected."""

import re
import time

import pyotp
import pytest

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel
from engpass.organizations.models import Organization, OrgKind, Role
from engpass.organizations.service import add_member
from engpass.tokens import service as tokens


def _enrol(client):
    page = client.get("/account/two-factor/setup")
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    done = client.post("/account/two-factor/setup", data={"code": pyotp.TOTP(secret).at(int(time.time()) - 30)})
    assert done.status_code == 200
    return secret


@pytest.fixture
def team(session, make_user, make_org):
    owner = make_user("sabine@mueller.example", "Sabine Müller")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    member = make_user("tom@mueller.example", "Tom")
    add_member(session, org, member, Role.member)
    session.flush()
    return org, owner, member


def _require(client, org, on=True):
    return client.post(f"/o/{org.slug}/settings/two-factor", data={"require": "y"} if on else {})


def test_only_an_owner_with_2fa_can_require_it(client, session, login, team):
    org, owner, _member = team
    login(owner)
    refused = _require(client, org)
    assert refused.status_code == 409
    assert "Bitte richten Sie zuerst für sich selbst" in refused.text
    session.expire_all()
    assert not session.get(Organization, org.id).require_two_factor
    _enrol(client)
    assert _require(client, org).status_code == 302
    session.expire_all()
    assert session.get(Organization, org.id).require_two_factor
    page = client.get(f"/o/{org.slug}/settings")
    assert page.status_code == 200 and '<input checked id="require" name="require"' in page.text
    with tenancy.tenant_context(session, org.id):
        actions = [event.action for event in session.query(AuditEvent).filter_by(organization_id=org.id)]
    assert "organization.two_factor_required" in actions


def test_switching_needs_a_recent_password(client, session, login, team):
    org, owner, _member = team
    login(owner)
    _enrol(client)
    with client.session_transaction() as sess:
        sess["auth_at"] = 0
    assert _require(client, org).status_code == 303
    session.expire_all()
    assert not session.get(Organization, org.id).require_two_factor


def test_admins_and_members_cannot_switch_it(client, session, login, team):
    org, _owner, member = team
    login(member)
    assert _require(client, org).status_code == 403


def test_members_without_2fa_are_sent_to_set_it_up_and_then_get_in(client, session, login, team):
    org, _owner, member = team
    org.require_two_factor = True
    session.flush()
    login(member)
    for path in ("/", "/cycles/", "/team/"):
        sent = client.get(f"/o/{org.slug}{path}")
        assert sent.status_code == 302 and sent.location == "/account/two-factor/"
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    assert "Müller Metallbau GmbH verlangt die Zwei-Faktor-Authentifizierung" in page.text
    _enrol(client)
    assert client.get(f"/o/{org.slug}/").status_code == 200


def test_other_organizations_of_the_same_person_are_not_affected(client, session, login, make_org, team):
    org, _owner, member = team
    own = make_org("Toms Werkstatt", owner=member)
    org.require_two_factor = True
    session.flush()
    login(member)
    assert client.get(f"/o/{own.slug}/").status_code == 200
    assert client.get(f"/o/{org.slug}/").status_code == 302


def test_consultants_without_2fa_are_sent_to_set_it_up(client, session, login, make_user, make_org, team):
    org, owner, _member = team
    petra = make_user("petra@weber.example", "Petra Weber")
    firm = make_org("Weber & Partner", owner=petra, kind=OrgKind.consultancy)
    consulting.grant(session, org, firm, AccessLevel.read, owner.id)
    org.require_two_factor = True
    session.flush()
    login(petra)
    assert client.get(f"/o/{firm.slug}/portfolio").status_code == 200
    sent = client.get(f"/o/{org.slug}/")
    assert sent.status_code == 302 and sent.location == "/account/two-factor/"


def test_the_api_is_not_affected(client, session, team):
    org, _owner, member = team
    with tenancy.tenant_context(session, org.id):
        _row, token = tokens.create_token(session, member.id, "Skript", None, member.id)
        session.flush()
    org.require_two_factor = True
    session.flush()
    response = client.get("/api/v1/cycles", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_a_stranger_still_gets_404(client, session, login, make_user, team):
    org, *_ = team
    org.require_two_factor = True
    session.flush()
    login(make_user("fremd@example.com"))
    assert client.get(f"/o/{org.slug}/").status_code == 404
    assert client.post(f"/o/{org.slug}/settings/two-factor", data={"require": "y"}).status_code == 404


def test_the_owner_can_make_it_optional_again(client, session, login, team):
    org, owner, _member = team
    login(owner)
    _enrol(client)
    _require(client, org)
    assert _require(client, org, on=False).status_code == 302
    session.expire_all()
    assert not session.get(Organization, org.id).require_two_factor
