"""The people and candidates the candidate page tests start from."""

from __future__ import annotations

from typing import Any

from engpass import tenancy
from engpass.candidates import service
from engpass.candidates.models import Candidate
from engpass.organizations.models import Role


def candidate_team(make_user: Any, make_org: Any) -> tuple[Any, Any, Any, Any]:
    """An organization with an owner, a member and a viewer: (org, owner, member, viewer)."""
    owner = make_user(name="Sabine Müller")
    member = make_user(name="Max Mitarbeiter")
    viewer = make_user(name="Vera Viewer")
    org = make_org("Müller Metallbau GmbH", owner=owner, members={member: Role.member, viewer: Role.viewer})
    return org, owner, member, viewer


def backlog_url(org: Any) -> str:
    return f"/o/{org.slug}/candidates"


def picked_with_a_merged_one(session: Any, org: Any, owner: Any, member: Any) -> Candidate:
    """The owner's candidate, the member's duplicate merged into it, then picked and committed."""
    with tenancy.tenant_context(session, org.id):
        kept = service.propose(session, {"title": "Angebote zu langsam"}, owner.id)
        duplicate = service.propose(session, {"title": "Angebote dauern"}, member.id)
        service.merge(session, duplicate, kept, owner.id)
        service.pick(session, kept, actor_id=owner.id, owner_id=owner.id, who_label="Wer")
        session.commit()
    return kept
