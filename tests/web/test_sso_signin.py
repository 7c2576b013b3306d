"""Signing in through an organization's OpenID provider — a real one (oidc-provider) on loopback: who gets in,
who joins, and every way an answer is refused without creating anything."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from engpass import tenancy
from engpass.accounts.models import SecurityEvent, User
from engpass.audit.models import AuditEvent
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel
from engpass.organizations.models import Membership, OrgKind, Role
from engpass.organizations.service import add_member
from tests.support.oidc_provider import ACCOUNTS, sign_in_at_provider

ANNA = "anna@firma.example"


def _start(client, org=None, email=None):
    if org is not None:
        return client.get(f"/sso/{org.slug}")
    return client.post("/sso", data={"email": email})


def _provider_url(started):
    """Where Engpass sends the browser: a redirect, or after the e-mail form a page that moves on by itself."""
    if started.status_code == 302:
        return started.location
    assert started.status_code == 200, started.text
    return html.unescape(re.search(r'href="([^"]+)" data-testid="to-provider"', started.text).group(1))


def _through_provider(client, email, org=None, password=None):
    """Start at Engpass, sign in on the provider's form, and bring its answer back to Engpass."""
    password = password or ACCOUNTS.get(email, {}).get("password", "x")
    back = sign_in_at_provider(_provider_url(_start(client, org, email)), email, password)
    assert back.startswith("http://localhost/sso/callback?"), back
    return client.get(back.removeprefix("http://localhost"))


def _events(session, user_id):
    return list(session.scalars(select(SecurityEvent.kind).where(SecurityEvent.user_id == user_id)))


def _user_count(session):
    return session.scalar(select(func.count()).select_from(User))


def test_a_member_signs_in_by_e_mail_and_lands_in_the_organization(client, session, make_user, sso_org):
    org = sso_org()
    anna = make_user(ANNA, "Anna")
    add_member(session, org, anna, Role.member)
    session.commit()
    answer = _through_provider(client, ANNA)
    assert answer.status_code == 302 and answer.location == f"/o/{org.slug}/"
    assert client.get(f"/o/{org.slug}/").status_code == 200
    assert "sso_login" in _events(session, anna.id)


def test_the_provider_redirect_carries_pkce_state_and_nonce(client, sso_org):
    org = sso_org()
    started = _start(client, org)
    location = started.location
    for part in ("code_challenge=", "code_challenge_method=S256", "state=", "nonce=", "scope=openid+email+profile"):
        assert part in location, location


def test_a_new_person_of_a_verified_domain_joins_just_in_time(client, session, sso_org):
    org = sso_org(role=Role.viewer)
    answer = _through_provider(client, "ben@firma.example", org=org)
    assert answer.status_code == 302
    ben = session.scalars(select(User).where(User.email == "ben@firma.example")).one()
    assert ben.name == "Ben Neu"
    membership = session.scalars(select(Membership).where(Membership.user_id == ben.id)).one()
    assert membership.organization_id == org.id and membership.role == Role.viewer
    with tenancy.tenant_context(session, org.id):
        joined = session.scalars(select(AuditEvent).where(AuditEvent.action == "sso.member_joined")).one()
    assert joined.details == {"user_id": ben.id, "role": "viewer"}
    assert client.get(f"/o/{org.slug}/").status_code == 200


def test_an_address_the_provider_has_not_verified_is_refused(client, session, sso_org):
    org = sso_org()
    before = _user_count(session)
    answer = _through_provider(client, "ungeprueft@firma.example", org=org)
    assert answer.status_code == 403
    assert "nicht bestätigt" in answer.text
    assert _user_count(session) == before
    assert client.get(f"/o/{org.slug}/").status_code == 302  # not signed in: to the login


def test_an_address_outside_the_verified_domains_is_refused(client, session, make_user, sso_org):
    org = sso_org()
    mia = make_user("mia@fremd.example", "Mia")
    answer = _through_provider(client, "mia@fremd.example", org=org)
    assert answer.status_code == 403
    assert "fremd.example ist keine bestätigte Domain" in answer.text
    assert session.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == mia.id)) == 0
    assert _events(session, mia.id) == ["sso_failed"]


def test_the_e_mail_of_a_domain_without_sso_is_told_to_use_the_password(client, sso_org):
    sso_org()
    answer = client.post("/sso", data={"email": "mia@fremd.example"})
    assert answer.status_code == 422
    assert "Für diese Adresse ist kein Single Sign-on eingerichtet" in answer.text


def test_a_person_removed_at_the_provider_gets_nothing(client, session, sso_org):
    org = sso_org()
    before = _user_count(session)
    answer = _through_provider(client, "weg@firma.example", org=org, password="was-here-once")
    assert answer.status_code == 403
    assert "hat Sie nicht angemeldet" in answer.text
    assert _user_count(session) == before


@pytest.mark.parametrize(
    ("client_id", "message"), [("misdirected", "nicht für diese Anmeldung"), ("stale", "abgelaufen")]
)
def test_an_id_token_for_another_audience_or_expired_is_refused(
    client, session, make_user, sso_org, client_id, message
):
    org = sso_org(client_id=client_id)
    anna = make_user(ANNA, "Anna")
    add_member(session, org, anna, Role.member)
    session.commit()
    answer = _through_provider(client, ANNA, org=org)
    assert answer.status_code == 403 and message in answer.text
    assert "sso_login" not in _events(session, anna.id)
    assert client.get(f"/o/{org.slug}/").status_code == 302


def test_a_returning_state_works_once(client, session, make_user, sso_org):
    org = sso_org()
    started = _start(client, org)
    back = sign_in_at_provider(started.location, "ben@firma.example", ACCOUNTS["ben@firma.example"]["password"])
    path = back.removeprefix("http://localhost")
    cookie = client.get_cookie("session").value
    assert client.get(path).status_code == 302
    client.post("/logout")
    replayed = client.get(path)
    assert replayed.status_code == 403 and "abgelaufen oder wurde schon verwendet" in replayed.text
    # Even with the session cookie from before the return, the provider's code is spent.
    client.set_cookie("session", cookie)
    again = client.get(path)
    assert again.status_code == 403
    assert client.get(f"/o/{org.slug}/").status_code == 302


def test_a_foreign_state_is_refused(client, sso_org):
    org = sso_org()
    _start(client, org)
    answer = client.get("/sso/callback?code=forged&state=forged")
    assert answer.status_code == 403 and "abgelaufen oder wurde schon verwendet" in answer.text


def test_sso_links_of_unknown_organizations_or_without_a_provider_are_404(client, make_org):
    assert client.get("/sso/gibt-es-nicht").status_code == 404
    org = make_org("Ohne SSO GmbH")
    assert client.get(f"/sso/{org.slug}").status_code == 404


def _require(session, org):
    org.require_sso = True
    session.commit()


def test_when_required_a_member_with_a_password_session_is_sent_to_the_provider(
    client, session, login, make_user, sso_org
):
    org = sso_org()
    anna = make_user(ANNA, "Anna")
    add_member(session, org, anna, Role.admin)
    session.commit()
    _require(session, org)
    login(anna)
    sent = client.get(f"/o/{org.slug}/")
    assert sent.status_code == 302 and sent.location == f"/sso/{org.slug}"
    client.post("/logout")
    assert _through_provider(client, ANNA, org=org).status_code == 302
    assert client.get(f"/o/{org.slug}/").status_code == 200


def test_when_required_owners_keep_the_password(client, session, login, sso_org, make_user):
    owner = make_user("olga@firma.example", "Olga")
    org = sso_org(owner=owner)
    _require(session, org)
    login(owner)
    assert client.get(f"/o/{org.slug}/").status_code == 200


def test_a_consultant_is_not_sent_to_a_clients_provider(client, session, login, make_user, make_org, sso_org):
    org = sso_org()
    owner_id = session.scalar(select(Membership.user_id).where(Membership.organization_id == org.id))
    petra = make_user("petra@weber.example", "Petra Weber")
    firm = make_org("Weber & Partner", owner=petra, kind=OrgKind.consultancy)
    consulting.grant(session, org, firm, AccessLevel.read, owner_id)
    session.commit()
    _require(session, org)
    login(petra)
    assert client.get(f"/o/{org.slug}/").status_code == 200


def test_another_organizations_provider_is_not_used_for_a_member_elsewhere(
    client, session, login, make_user, make_org, sso_org
):
    """A session from firma's provider does not count as single sign-on into another organization that requires
    its own."""
    org = sso_org()
    anna = make_user(ANNA, "Anna")
    add_member(session, org, anna, Role.member)
    other = make_org("Andere AG")
    add_member(session, other, anna, Role.member)
    other.require_sso = True
    session.commit()
    assert _through_provider(client, ANNA, org=org).status_code == 302
    sent = client.get(f"/o/{other.slug}/")
    assert sent.status_code == 302 and sent.location == f"/sso/{other.slug}"
