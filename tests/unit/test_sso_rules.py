"""Who an identity provider's answer signs in, over a session and without HTTP: the claims, the domains, the
accounts, the memberships, and what a refusal leaves behind."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engpass import tenancy
from engpass.accounts.models import SecurityEvent, User
from engpass.db import utcnow
from engpass.organizations.models import Membership, Role
from engpass.organizations.service import add_member
from engpass.sso import config as sso_config
from engpass.sso.models import SsoDomain
from engpass.sso.provider import SignInFailed
from engpass.sso.signin import organization_for_email, sign_in

KEY = "test-secret-key"


@pytest.fixture
def firma(session, make_user, make_org):
    owner = make_user("olga@firma.example", "Olga")
    org = make_org("Firma GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        settings = sso_config.ProviderSettings("https://idp.example", "engpass", "s", Role.viewer)
        config = sso_config.save_provider(session, org, settings, KEY, owner.id)
        session.add(SsoDomain(organization_id=org.id, domain="firma.example", verified_at=utcnow()))
        session.add(SsoDomain(organization_id=org.id, domain="noch-nicht.example"))
        session.commit()
    return org, config


def _claims(email, **extra):
    return {"sub": "x", "email": email, "email_verified": True, "name": "Neu Person"} | extra


def _sign_in(session, firma, claims):
    org, config = firma
    with tenancy.tenant_context(session, org.id):
        return sign_in(session, org, config, claims, "203.0.113.9")


def test_the_organization_is_found_by_a_verified_domain_only(session, firma):
    org, _config = firma
    assert organization_for_email(session, "Anna@FIRMA.example ") == org
    assert organization_for_email(session, "anna@noch-nicht.example") is None
    assert organization_for_email(session, "anna@elsewhere.example") is None


def test_a_new_person_gets_an_account_and_the_default_role(session, firma):
    user = _sign_in(session, firma, _claims("Neu@Firma.Example"))
    assert user.email == "neu@firma.example" and user.name == "Neu Person"
    membership = session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
    assert membership.role == Role.viewer
    events = session.scalars(select(SecurityEvent).where(SecurityEvent.user_id == user.id)).all()
    assert [(e.kind, e.network) for e in events] == [("sso_login", "203.0.113.0/24")]


def test_an_existing_member_keeps_the_role(session, firma, make_user):
    org, _config = firma
    anna = make_user("anna@firma.example", "Anna")
    add_member(session, org, anna, Role.admin)
    assert _sign_in(session, firma, _claims("anna@firma.example")) == anna
    assert session.scalars(select(Membership.role).where(Membership.user_id == anna.id)).one() == Role.admin


def test_entra_ids_domain_owner_verified_claim_counts_as_verified(session, firma):
    claims = _claims("entra@firma.example", xms_edov=True)
    del claims["email_verified"]
    assert _sign_in(session, firma, claims).email == "entra@firma.example"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (_claims("neu@firma.example", email_verified=False), "email_unverified"),
        ({"sub": "x", "email": "neu@firma.example"}, "email_unverified"),
        (_claims("neu@firma.example", email_verified="false"), "email_unverified"),
        ({"sub": "x", "email_verified": True}, "no_email"),
        (_claims("neu@noch-nicht.example"), "domain_not_verified"),
        (_claims("neu@elsewhere.example"), "domain_not_verified"),
    ],
)
def test_refusals_create_nothing(session, firma, claims, reason):
    users = session.scalar(select(func.count()).select_from(User))
    with pytest.raises(SignInFailed) as refused:
        _sign_in(session, firma, claims)
    assert refused.value.reason == reason
    assert session.scalar(select(func.count()).select_from(User)) == users
