"""The owners' single sign-on settings: the provider with its sealed secret, the test button, domains verified by
DNS, the requirement — each audited, each another organization's 404."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from engpass import sealed, tenancy
from engpass.audit.models import AuditEvent
from engpass.organizations.models import Organization, Role
from engpass.organizations.service import add_member
from engpass.sso import config as sso_config
from engpass.sso import settings_views
from engpass.sso.models import SsoConfig, SsoDomain
from tests.support.oidc_provider import ACCOUNTS, sign_in_at_provider

SECRET = "engpass-secret"


@pytest.fixture
def owned(session, make_user, make_org):
    owner = make_user("olga@firma.example", "Olga Owner")
    org = make_org("Firma GmbH", owner=owner)
    return org, owner


def _save(client, org, issuer, secret=SECRET, role="member"):
    data = {"issuer": issuer, "client_id": "engpass", "client_secret": secret, "default_role": role}
    return client.post(f"/o/{org.slug}/settings/sso/", data=data)


def _actions(session, org):
    with tenancy.tenant_context(session, org.id):
        return [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_an_owner_saves_the_provider_and_the_secret_is_sealed_and_never_shown(
    client, session, login, owned, oidc_provider
):
    org, owner = owned
    login(owner)
    assert client.get(f"/o/{org.slug}/settings/sso/").status_code == 200
    assert _save(client, org, oidc_provider.issuer).status_code == 302
    with tenancy.tenant_context(session, org.id):
        config = session.scalars(select(SsoConfig)).one()
        assert SECRET not in config.client_secret_sealed
        assert sealed.unseal("oidc", "test-secret-key", config.client_secret_sealed) == SECRET
    page = client.get(f"/o/{org.slug}/settings/sso/")
    assert SECRET not in page.text
    assert "Ein Secret ist hinterlegt" in page.text
    assert 'data-testid="callback-url">http://localhost/sso/callback<' in page.text
    # Saved again without a secret: the stored one stays.
    assert _save(client, org, oidc_provider.issuer, secret="", role="viewer").status_code == 302
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        config = session.scalars(select(SsoConfig)).one()
        assert sealed.unseal("oidc", "test-secret-key", config.client_secret_sealed) == SECRET
        assert config.default_role == Role.viewer
    assert _actions(session, org)[-2:] == ["sso.configured", "sso.configured"]
    audit = client.get(f"/o/{org.slug}/audit/")
    assert "Single Sign-on eingerichtet oder geändert" in audit.text and SECRET not in audit.text


def test_a_first_save_needs_a_secret_and_an_https_issuer(client, login, owned):
    org, owner = owned
    login(owner)
    no_secret = _save(client, org, "https://login.example.com/tenant/v2.0", secret="")
    assert no_secret.status_code == 422 and "Bitte geben Sie das Client-Secret ein." in no_secret.text
    plain_http = _save(client, org, "http://login.example.com/tenant")
    assert plain_http.status_code == 422 and "mit https:// beginnt" in plain_http.text


def test_the_test_button_shows_what_the_provider_answered(client, login, owned, oidc_provider):
    org, owner = owned
    login(owner)
    _save(client, org, oidc_provider.issuer)
    answer = client.post(f"/o/{org.slug}/settings/sso/test")
    assert answer.status_code == 200
    assert "Der Anbieter antwortet." in answer.text
    assert f"<code>{oidc_provider.issuer}</code>" in answer.text
    assert f"{oidc_provider.issuer}/jwks" in answer.text


def test_the_test_button_says_in_words_what_is_wrong(client, login, owned, oidc_provider):
    org, owner = owned
    login(owner)
    _save(client, org, oidc_provider.issuer + "/elsewhere")
    answer = client.post(f"/o/{org.slug}/settings/sso/test")
    assert answer.status_code == 422
    assert "Der Test hat Probleme gefunden." in answer.text
    assert "antwortete mit 404" in answer.text


def test_a_domain_is_verified_by_its_txt_record(client, session, login, owned, monkeypatch):
    org, owner = owned
    login(owner)
    assert client.post(f"/o/{org.slug}/settings/sso/domains", data={"domain": " Firma.Example "}).status_code == 302
    page = client.get(f"/o/{org.slug}/settings/sso/")
    record = re.search(r'data-testid="txt-record">(engpass-domain-verification=[0-9a-f]{32})<', page.text).group(1)
    row = session.scalars(select(SsoDomain).where(SsoDomain.organization_id == org.id)).one()
    assert row.domain == "firma.example"

    monkeypatch.setattr(settings_views, "txt_lookup", lambda domain: ["v=spf1 -all"])
    missing = client.post(f"/o/{org.slug}/settings/sso/domains/{row.id}/verify")
    assert missing.status_code == 409 and "noch nicht gefunden" in missing.text
    looked_up: list[str] = []
    monkeypatch.setattr(settings_views, "txt_lookup", lambda domain: looked_up.append(domain) or [record])
    assert client.post(f"/o/{org.slug}/settings/sso/domains/{row.id}/verify").status_code == 302
    assert looked_up == ["firma.example"]
    session.expire_all()
    assert session.get(SsoDomain, row.id).verified_at is not None
    assert _actions(session, org)[-2:] == ["sso.domain_added", "sso.domain_verified"]


def test_a_domain_verified_by_one_organization_is_not_verified_for_another(
    client, session, login, owned, make_user, make_org, monkeypatch
):
    org, owner = owned
    login(owner)
    client.post(f"/o/{org.slug}/settings/sso/domains", data={"domain": "firma.example"})
    rival_owner = make_user("rolf@rival.example", "Rolf")
    rival = make_org("Rival AG", owner=rival_owner)
    session.add(SsoDomain(organization_id=rival.id, domain="firma.example", verified_at=rival.created_at))
    session.commit()
    row = session.scalars(select(SsoDomain).where(SsoDomain.organization_id == org.id)).one()
    monkeypatch.setattr(
        settings_views, "txt_lookup", lambda domain: [sso_config.txt_record("test-secret-key", org.id, domain)]
    )
    taken = client.post(f"/o/{org.slug}/settings/sso/domains/{row.id}/verify")
    assert taken.status_code == 409 and "Eine andere Organisation hat diese Domain bereits bestätigt." in taken.text


def test_requiring_needs_a_provider_and_a_verified_domain(client, session, login, owned, oidc_provider):
    org, owner = owned
    login(owner)
    refused = client.post(f"/o/{org.slug}/settings/sso/require", data={"require": "y"})
    assert refused.status_code == 409
    _save(client, org, oidc_provider.issuer)
    session.add(SsoDomain(organization_id=org.id, domain="firma.example", verified_at=org.created_at))
    session.commit()
    assert client.post(f"/o/{org.slug}/settings/sso/require", data={"require": "y"}).status_code == 302
    session.expire_all()
    assert session.get(Organization, org.id).require_sso
    # Switching the provider off takes the requirement with it: nobody but the owners could get in otherwise.
    assert client.post(f"/o/{org.slug}/settings/sso/remove").status_code == 302
    session.expire_all()
    assert not session.get(Organization, org.id).require_sso
    assert _actions(session, org)[-3:] == ["sso.required", "sso.optional", "sso.removed"]


def test_changes_need_a_recent_password(client, login, owned, oidc_provider):
    org, owner = owned
    login(owner)
    with client.session_transaction() as sess:
        sess["auth_at"] = 0
    assert _save(client, org, oidc_provider.issuer).status_code == 303
    assert client.get(f"/o/{org.slug}/settings/sso/").status_code == 200


@pytest.mark.parametrize("role", [Role.admin, Role.member, Role.viewer])
def test_only_owners_configure_single_sign_on(client, session, login, owned, make_user, role):
    org, _owner = owned
    person = make_user()
    add_member(session, org, person, role)
    session.commit()
    login(person)
    assert client.get(f"/o/{org.slug}/settings/sso/").status_code == 403
    assert client.post(f"/o/{org.slug}/settings/sso/require", data={"require": "y"}).status_code == 403


def test_another_organizations_settings_and_domains_answer_404(client, session, login, owned, make_user, make_org):
    org, _owner = owned
    session.add(SsoDomain(organization_id=org.id, domain="firma.example"))
    session.commit()
    row = session.scalars(select(SsoDomain).where(SsoDomain.organization_id == org.id)).one()
    stranger = make_user("sam@anders.example", "Sam")
    own = make_org("Anders KG", owner=stranger)
    login(stranger)
    assert client.get(f"/o/{org.slug}/settings/sso/").status_code == 404
    assert client.post(f"/o/{own.slug}/settings/sso/domains/{row.id}/verify").status_code == 404
    assert client.post(f"/o/{own.slug}/settings/sso/domains/{row.id}/delete").status_code == 404
    session.expire_all()
    assert session.get(SsoDomain, row.id) is not None


def test_a_person_with_two_factor_still_gives_the_code_after_the_provider(client, session, login, make_user, sso_org):
    org = sso_org()
    anna = make_user("anna@firma.example", "Anna")
    add_member(session, org, anna, Role.member)
    org.require_sso = True
    session.commit()
    login(anna)
    client.get("/account/two-factor/setup")
    page = client.get("/account/two-factor/setup")
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    client.post("/account/two-factor/setup", data={"code": pyotp.TOTP(secret).at(int(time.time()) - 30)})
    client.post("/logout")
    started = client.get(f"/sso/{org.slug}")
    back = sign_in_at_provider(started.location, anna.email, ACCOUNTS[anna.email]["password"])
    answer = client.get(back.removeprefix("http://localhost"))
    assert answer.status_code == 302 and answer.location.startswith("/login/two-factor")
    assert client.get(f"/o/{org.slug}/").status_code == 302
    code = client.post(answer.location, data={"code": pyotp.TOTP(secret).now()})
    assert code.status_code == 302 and code.location == f"/o/{org.slug}/"
    assert client.get(f"/o/{org.slug}/").status_code == 200
