"""Single sign-on in the demo: Schneider Logistik has begun to connect its Entra ID — a provider entered, its mail
domain waiting for the DNS record — so the owners' page shows every part (the test button answers in words that
the demo tenant does not exist, or that the machine is offline)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.service import find_user
from engpass.organizations.models import Organization, Role
from engpass.sso import config as sso_config
from engpass.sso.models import SsoDomain

DEMO_SSO_ORG = "Schneider Logistik KG"
DEMO_ISSUER = "https://login.microsoftonline.com/00000000-0000-0000-0000-0000000d3e30/v2.0"
DEMO_DOMAIN = "schneider-logistik.example"


DEMO_SSO_OWNER = "schneider@demo.example"


def connect_provider(session: Session, secret_key: str) -> None:
    """After ``load_demo``, with the app's secret key that seals the client secret. Once: an organization whose
    provider an owner removed in the demo stays without one."""
    org = session.scalars(select(Organization).where(Organization.name == DEMO_SSO_ORG)).one()
    owner = find_user(session, DEMO_SSO_OWNER)
    if owner is None or session.scalar(select(SsoDomain.id).where(SsoDomain.organization_id == org.id)) is not None:
        return
    owner_id = owner.id
    with tenancy.tenant_context(session, org.id):
        settings = sso_config.ProviderSettings(
            issuer=DEMO_ISSUER,
            client_id="6f1c0b6e-demo-4c1e-9a55-engpass00001",
            client_secret="demo-client-secret",
            default_role=Role.member,
        )
        sso_config.save_provider(session, org, settings, secret_key, owner_id)
        sso_config.add_domain(session, org, DEMO_DOMAIN, owner_id)
        session.flush()
