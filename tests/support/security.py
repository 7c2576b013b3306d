"""What the security walks share (test_security_headers.py, test_form_fuzz.py, test_permissions.py): a small
organization with one of everything a route can name, and the route's address filled with those ids."""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule

from engpass import tenancy
from engpass.accounts.service import make_email_change_token, make_reset_token
from engpass.candidates import service as candidates
from engpass.cycles import indirect_service
from engpass.cycles.models import Category, CycleTemplate, KpiDirection, Measurement
from engpass.imports import service as imports
from engpass.notifications.links import preferences_token, unsubscribe_token
from engpass.notifications.preferences import Topic
from engpass.organizations.models import Membership, Organization, OrgKind, Role
from engpass.team import service as team
from tests.support.cycles import scaled_quoting_cycle
from tests.support.webhooks import webhook_with_a_delivery

SECRET_KEY = "test-secret-key"  # the tests' settings (tests/fixtures/app.py): real signed links for the public pages


def one_of_everything(
    session: Any, org: Organization, owner: Any, plain: Any, invitation_token: str | None = None
) -> dict[str, Any]:
    """In ``org``, committed: ``owner``'s decided cycle with a measurement and a file uploaded for import, a
    template and an open invitation (its link working with ``invitation_token``, if given); the values of
    the URL parameters that name them or ``plain``'s membership, by name."""
    with tenancy.tenant_context(session, org.id):
        cycle = scaled_quoting_cycle(session, owner)
        measurement = session.scalars(select(Measurement).where(Measurement.cycle_id == cycle.id)).first()
        item = indirect_service.add_item(
            session,
            cycle,
            {"label": "Porto", "kind": "other", "quantity": None, "unit_value": 10, "people_affected": None}
            | {"period": "week", "source": "estimated", "source_note": ""},
            owner.id,
        )
        template = CycleTemplate(
            category=Category.quoting, name="V", kpi_name="K", kpi_unit="T", kpi_direction=KpiDirection.lower
        )
        session.add(template)
        owner_membership = session.scalars(
            select(Membership).where(Membership.user_id == owner.id, Membership.organization_id == org.id)
        ).one()
        invitation = team.invite(session, org, owner_membership, "neu@example.com", Role.viewer)
        if invitation_token is not None:
            invitation.token_hash = team.hash_token(invitation_token)
        target = session.scalars(
            select(Membership).where(Membership.user_id == plain.id, Membership.organization_id == org.id)
        ).one()
        candidate = candidates.propose(session, {"title": "Reklamationen"}, plain.id)
        upload = imports.store_upload(session, cycle, owner.id, "werte.csv", b"Datum;Wert\n01.12.2026;5\n")
        endpoint, webhook_delivery = webhook_with_a_delivery(session)
        session.commit()
        return {
            "cycle_id": cycle.id,
            "candidate_id": candidate.id,
            "measurement_id": measurement.id,
            "item_id": item.id,
            "upload_id": upload.id,
            "template_id": template.id,
            "invitation_id": invitation.id,
            "membership_id": target.id,
            # Consulting requests and accesses: none exist, so an allowed role gets the 404 of a missing
            # one, and a refused role its 403 before anything is looked up.
            "request_id": 999_999,
            "access_id": 999_999,
            "table": "cycles",
            # No data export exists: an owner gets the 404 of a missing one, everyone else 403 first.
            "export_id": 999_999,
            # Tokens are one's own: another's or a missing one is the same 404 for an allowed role.
            "token_id": 999_999,
            # No single sign-on domain exists: an owner gets the 404 of a missing one (and no DNS lookup).
            "domain_id": 999_999,
            "endpoint_id": endpoint.id,
            "webhook_id": endpoint.id,
            "delivery_id": webhook_delivery.id,
        }


def build_world(session: Any, make_user: Any, make_org: Any) -> tuple[Any, Organization, Organization, dict]:
    """An owner of a company (a decided cycle with a measurement, a template, an open invitation, a plain
    member) and of a consultancy (the portfolio); the values for every URL parameter, by name and endpoint."""
    owner, plain = make_user(name="Owner"), make_user(name="Plain")
    org = make_org("Kopf GmbH", owner=owner, members={plain: Role.member})
    firm = make_org("Kopf Beratung", owner=owner, kind=OrgKind.consultancy)
    # The worker makes the link's token when it sends the mail; the walk needs one now.
    invitation_token = f"{org.id}.{secrets.token_urlsafe(32)}"
    values = one_of_everything(session, org, owner, plain, invitation_token)
    values |= {
        "filename": "css/app.css",
        "name": "missing.eml",
        # Signed links of the plain member (never the owner's: the walks stay logged in as the owner).
        "accounts.reset_password": make_reset_token(SECRET_KEY, plain),
        "accounts.confirm_email_change": make_email_change_token(SECRET_KEY, plain, "neu-plain@example.com"),
        "notifications.preferences_page": preferences_token(SECRET_KEY, plain),
        "notifications.unsubscribe": unsubscribe_token(SECRET_KEY, plain, Topic.digest),
        "team_public.accept": invitation_token,
        "team_public.logout": invitation_token,
    }
    return owner, org, firm, values


def route_url(app: Flask, rule: Rule, org: Organization, firm: Organization, values: dict) -> str:
    """``rule``'s address in the world: consultancy pages in the firm, everything else in the company."""
    only_for = getattr(app.view_functions[rule.endpoint], "only_for", None)
    slug = firm.slug if only_for == OrgKind.consultancy else org.slug

    def fill(match: re.Match) -> str:
        name = match.group(1).rpartition(":")[2]
        if name == "org_slug":
            return slug
        if name == "token":
            return values.get(rule.endpoint, "bogus-token")
        return str(values[name])

    return re.sub(r"<([^>]+)>", fill, rule.rule)


def rules_with(app: Flask, method: str) -> list[Rule]:
    return sorted((rule for rule in app.url_map.iter_rules() if method in rule.methods), key=lambda r: r.rule)


def header_problems(response) -> list[str]:
    csp = response.headers.get("Content-Security-Policy", "")
    problems = [f"CSP allows {word}" for word in ("unsafe-inline", "unsafe-eval", "*") if word in csp.split()]
    if "frame-ancestors 'none'" not in csp:
        problems.append(f"CSP without frame-ancestors 'none': {csp!r}")
    if "script-src 'self'" not in csp:
        problems.append("CSP without script-src 'self'")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if response.headers.get("Referrer-Policy") != "same-origin":
        problems.append("no Referrer-Policy")
    if "camera=()" not in response.headers.get("Permissions-Policy", ""):
        problems.append("no Permissions-Policy")
    if response.headers.get("Cross-Origin-Opener-Policy") != "same-origin":
        problems.append("no Cross-Origin-Opener-Policy")
    return problems
