"""Demo data: German companies and a consultancy, loaded idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass import tenancy
from engpass.accounts.models import User
from engpass.accounts.service import create_user, find_user
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel, AccessRequest, ClientAccess
from engpass.cycles.models import Cycle
from engpass.cycles.proven_templates import make_template
from engpass.demo.candidates import fill_backlog
from engpass.demo.cycles import CHAINS, build_chain
from engpass.demo.lessons import ADMIN_SPONSOR, PROVEN_TEMPLATE, WITHOUT_SPONSOR
from engpass.demo.radar import add_low_adoption
from engpass.demo.rollouts import add_rollout
from engpass.demo.webhooks import DEMO_WEBHOOK_ORG, add_demo_webhook
from engpass.organizations import memberships
from engpass.organizations.models import Organization, OrgKind, Role
from engpass.organizations.service import add_member, create_organization
from engpass.reminders.rules import MEASUREMENT_DUE_DAYS
from engpass.trends.service import recompute as recompute_trends

DEMO_PASSWORD = "engpass-demo"
DAYS_SINCE_CHAIN_END = 3


@dataclass(frozen=True)
class DemoOrg:
    name: str
    kind: OrgKind
    hourly_rate: Decimal
    members: tuple[tuple[str, str, Role], ...]  # e-mail, name, role; the first is the owner


DEMO_ORGS = (
    DemoOrg(
        "Müller Metallbau GmbH",
        OrgKind.company,
        Decimal("65.00"),
        (
            ("owner@demo.example", "Sabine Müller", Role.owner),
            ("jonas@demo.example", "Jonas Becker", Role.member),
            ("viewer@demo.example", "Frieda Vogel", Role.viewer),
        ),
    ),
    DemoOrg(
        "Schneider Logistik KG",
        OrgKind.company,
        Decimal("58.00"),
        (
            ("schneider@demo.example", "Thomas Schneider", Role.owner),
            ("admin@demo.example", "Aylin Kaya", Role.admin),
        ),
    ),
    DemoOrg(
        "Kanzlei Hofmann Steuerberatung",
        OrgKind.company,
        Decimal("80.00"),
        (("hofmann@demo.example", "Claudia Hofmann", Role.owner),),
    ),
    DemoOrg(
        "Krause Outdoor Online-Shop",
        OrgKind.company,
        Decimal("52.00"),
        (("krause@demo.example", "Mehmet Krause", Role.owner),),
    ),
    DemoOrg(
        "Weber & Partner Unternehmensberatung",
        OrgKind.consultancy,
        Decimal("120.00"),
        (("consultant@demo.example", "Petra Weber", Role.owner),),
    ),
)


def _user(session: Session, email: str, name: str) -> User:
    return find_user(session, email) or create_user(session, email, name, DEMO_PASSWORD)


def load_demo(session: Session) -> list[tuple[str, str]]:
    """Create what is missing; returns the logins with a short description."""
    logins: list[tuple[str, str]] = []
    for spec in DEMO_ORGS:
        owner_email, owner_name, _ = spec.members[0]
        owner = _user(session, owner_email, owner_name)
        org = session.scalars(select(Organization).where(Organization.name == spec.name)).first()
        if org is None:
            org = create_organization(session, spec.name, owner, kind=spec.kind, hourly_rate=spec.hourly_rate)
        for email, name, role in spec.members:
            user = _user(session, email, name)
            if memberships.membership_of(session, org.id, user.id) is None:
                add_member(session, org, user, role)
            logins.append((email, f"{role.value} · {org.name}"))
        session.flush()
        _fill_cycles(session, org, owner, seed=len(logins))
    session.flush()
    _grant_demo_accesses(session)
    return logins


# The demo member's own cycle, in the result stage with its next measurement due (reminders.rules), so
# that his journey (JOURNEYS.md: Jonas adds the weekly measurement) can be walked: company, title, e-mail.
MEMBER_CYCLE = ("Müller Metallbau GmbH", "Lead-Scoring nachschärfen", "jonas@demo.example")

# The demo consultancy's clients: (client, level). Petra Weber sees both in her portfolio.
DEMO_CONSULTANCY = "Weber & Partner Unternehmensberatung"
DEMO_CLIENTS = (("Müller Metallbau GmbH", AccessLevel.edit), ("Schneider Logistik KG", AccessLevel.read))
# A request of the consultancy still waiting for this company's answer (its settings show it).
DEMO_REQUEST_TO = "Kanzlei Hofmann Steuerberatung"


def _grant_demo_accesses(session: Session) -> None:
    """Once per pair: an access the client revoked in the demo stays revoked on the next run."""
    by_name = {o.name: o for o in session.scalars(select(Organization).where(Organization.name.in_(_demo_names())))}
    firm = by_name[DEMO_CONSULTANCY]
    consulting.invitation_code(session, firm)
    for name, level in DEMO_CLIENTS:
        client = by_name[name]
        ever = session.scalar(
            select(ClientAccess.id).where(ClientAccess.consultancy_id == firm.id, ClientAccess.client_id == client.id)
        )
        if ever is None:
            consulting.grant(session, client, firm, level, None)
    asked = by_name[DEMO_REQUEST_TO]
    ever_asked = session.scalar(
        select(AccessRequest.id).where(AccessRequest.consultancy_id == firm.id, AccessRequest.client_id == asked.id)
    )
    if ever_asked is None:
        petra = find_user(session, DEMO_ORGS[-1].members[0][0])
        message = "Wir würden Sie gern bei Ihrem nächsten Engpass begleiten."
        consulting.request_access(session, firm, asked.slug, AccessLevel.read, message, petra.id if petra else None)
    session.flush()


def _demo_names() -> list[str]:
    return [spec.name for spec in DEMO_ORGS]


def _fill_cycles(session: Session, org: Organization, owner: User, seed: int) -> None:
    """An organization's demo chain, once: a later run finds cycles and leaves them alone."""
    chain = CHAINS.get(org.name)
    if chain is None:
        return
    with tenancy.tenant_context(session, org.id):
        if session.scalar(select(Cycle.id).limit(1)) is None:
            # Chains end a few days ago, or later for the open cycles that are still in progress.
            company, title, email = MEMBER_CYCLE
            ours = org.name == company
            end = date.today() - timedelta(days=DAYS_SINCE_CHAIN_END)
            sponsor_id = None if org.name == WITHOUT_SPONSOR else owner.id
            quiet = MEASUREMENT_DUE_DAYS + 1 if ours else 0
            built = build_chain(session, chain, end, owner.id, seed, quiet, sponsor_id)
            add_rollout(session, org.name, built, date.today())
            member = find_user(session, email) if ours else None
            if member is not None:
                next(cycle for cycle in built if cycle.title == title).owner_id = member.id
                session.flush()
            _back_open_cycles_by_an_admin(session, org, built)
            _make_proven_template(session, org, owner, built)
        fill_backlog(session, org.name)
        add_low_adoption(session, org.name, date.today())
        # Its secret is sealed with the app's key: only inside the app, as `engpass demo` runs.
        if org.name == DEMO_WEBHOOK_ORG and has_app_context():
            add_demo_webhook(session, current_app.extensions["engpass.settings"].secret_key)
        # The dashboards read snapshots only; the demo should not wait for a worker to show its trend.
        # Its chain was written with past dates around the services, so every week is rewritten.
        recompute_trends(session, full=True)


def _back_open_cycles_by_an_admin(session: Session, org: Organization, built: list[Cycle]) -> None:
    """In one company an admin backs the open cycles: the sponsor who decides there is not the owner."""
    company, email = ADMIN_SPONSOR
    admin = find_user(session, email) if org.name == company else None
    if admin is None:
        return
    for cycle in built:
        if cycle.is_open:
            cycle.sponsor_id = admin.id
    session.flush()


def _make_proven_template(session: Session, org: Organization, owner: User, built: list[Cycle]) -> None:
    """The demo's one template made from a decided cycle, through the owners' own service."""
    company, title = PROVEN_TEMPLATE
    source = next((cycle for cycle in built if org.name == company and cycle.title == title), None)
    if source is not None:
        make_template(session, source, org.default_hourly_rate, org.working_weeks_per_year, owner.id)
