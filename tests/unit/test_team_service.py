"""The team's rules without HTTP: invitations, roles, removing, leaving, transferring ownership."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from engpass import task_names, tenancy
from engpass.audit.models import AuditEvent
from engpass.db import utcnow
from engpass.organizations.models import Membership, Role
from engpass.outbox.models import OutboxMessage
from engpass.team import service
from engpass.team.models import Invitation


@pytest.fixture
def team(session, make_user, make_org):
    """An organization with one owner, an admin, a member and a viewer; the tenant context is its own."""
    people = {role: make_user(name=role.value.title(), email=f"{role.value}@team.example") for role in Role}
    org = make_org("Team GmbH", owner=people[Role.owner], members={u: r for r, u in people.items() if r != Role.owner})
    with tenancy.tenant_context(session, org.id):
        yield org, people, {r: _membership(session, org.id, u.id) for r, u in people.items()}


def _membership(session, org_id, user_id):
    return session.scalars(
        select(Membership).where(Membership.organization_id == org_id, Membership.user_id == user_id)
    ).one()


def _actions(session):
    return session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def test_invite_records_the_invitation_hashless_its_mail_work_and_an_audit_event(session, team):
    org, _, ms = team
    invitation = service.invite(session, org, ms[Role.admin], " Jonas@Example.COM ", Role.member)
    session.commit()
    assert invitation.email == "jonas@example.com"
    assert invitation.token_hash is None  # the worker makes the token; it is never stored in clear
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.task_name == task_names.SEND_INVITATION)).one()
    assert message.kwargs == {"org_id": org.id, "invitation_id": invitation.id, "send_round": 0}
    assert _actions(session) == ["member.invited"]


def test_the_token_is_stored_only_as_its_hash_and_names_its_organization(session, team):
    org, _, ms = team
    invitation = service.invite(session, org, ms[Role.owner], "jonas@example.com", Role.member)
    token = service.issue_token(session, invitation)
    assert token.startswith(f"{org.id}.")
    assert service.org_id_of_token(token) == org.id
    assert invitation.token_hash == service.hash_token(token) != token
    assert service.find_invitation(session, token).id == invitation.id
    # A second delivery of the same send round gets no token of its own.
    assert service.issue_token(session, invitation) is None


@pytest.mark.parametrize("token", ["", "abc", "x.abcdefghijklmnopqrstuvwxyz", "12.", "12.short", "1" * 20 + ".a" * 30])
def test_malformed_tokens_name_no_organization(token):
    assert service.org_id_of_token(token) is None


def test_admins_cannot_invite_owners_members_cannot_invite_at_all(session, team):
    org, _, ms = team
    with pytest.raises(service.NotAllowed):
        service.invite(session, org, ms[Role.admin], "boss@example.com", Role.owner)
    for role in (Role.member, Role.viewer):
        with pytest.raises(service.NotAllowed):
            service.invite(session, org, ms[role], "x@example.com", Role.viewer)
    assert service.invite(session, org, ms[Role.owner], "boss@example.com", Role.owner).role == Role.owner


def test_no_second_open_invitation_and_no_invitation_for_members(session, team):
    org, people, ms = team
    service.invite(session, org, ms[Role.owner], "jonas@example.com", Role.member)
    with pytest.raises(service.InvalidInput, match="still open"):
        service.invite(session, org, ms[Role.owner], "JONAS@example.com", Role.viewer)
    with pytest.raises(service.InvalidInput, match="already a member"):
        service.invite(session, org, ms[Role.owner], people[Role.viewer].email, Role.member)


def test_an_expired_invitation_is_replaced_by_a_new_one(session, team):
    org, _, ms = team
    old = service.invite(
        session, org, ms[Role.owner], "jonas@example.com", Role.member, now=utcnow() - timedelta(days=8)
    )
    new = service.invite(session, org, ms[Role.owner], "jonas@example.com", Role.admin)
    assert old.cancelled_at is not None
    assert service.open_invitations(session) == [new]


def test_resend_kills_the_old_token_and_makes_a_new_round(session, team):
    org, _, ms = team
    invitation = service.invite(session, org, ms[Role.owner], "jonas@example.com", Role.member)
    old_token = service.issue_token(session, invitation)
    service.resend(session, invitation, ms[Role.admin], now=utcnow() + timedelta(days=3))
    assert invitation.send_round == 1
    assert service.find_invitation(session, old_token) is None
    new_token = service.issue_token(session, invitation)
    assert new_token != old_token
    assert service.find_invitation(session, new_token).id == invitation.id
    assert not invitation.is_expired(utcnow() + timedelta(days=9))
    rounds = [m.kwargs["send_round"] for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert rounds == [0, 1]


def test_accept_adds_the_membership_once_and_uses_up_the_invitation(session, team, make_user):
    org, _, ms = team
    jonas = make_user(email="jonas@example.com", name="Jonas")
    invitation = service.invite(session, org, ms[Role.owner], "jonas@example.com", Role.member)
    membership = service.accept(session, invitation, jonas)
    assert (membership.organization_id, membership.user_id, membership.role) == (org.id, jonas.id, Role.member)
    assert invitation.accepted_by_id == jonas.id
    with pytest.raises(service.InvalidInput, match="already accepted"):
        service.accept(session, invitation, jonas)
    assert "invitation.accepted" in _actions(session)


def test_accept_refuses_expired_cancelled_and_mismatched(session, team, make_user):
    org, _, ms = team
    jonas = make_user(email="jonas@example.com")
    stranger = make_user(email="stranger@example.com")
    invitation = service.invite(session, org, ms[Role.owner], "jonas@example.com", Role.member)
    with pytest.raises(service.NotAllowed, match="another e-mail"):
        service.accept(session, invitation, stranger)
    with pytest.raises(service.InvalidInput, match="expired"):
        service.accept(session, invitation, jonas, now=utcnow() + timedelta(days=7, seconds=1))
    service.cancel(session, invitation, ms[Role.admin])
    with pytest.raises(service.InvalidInput, match="cancelled"):
        service.accept(session, invitation, jonas)
    assert _membership_or_none(session, org.id, jonas.id) is None


def _membership_or_none(session, org_id, user_id):
    return session.scalars(
        select(Membership).where(Membership.organization_id == org_id, Membership.user_id == user_id)
    ).first()


def test_accepting_as_an_existing_member_keeps_the_role(session, team):
    org, people, ms = team
    invitation = Invitation(email=people[Role.admin].email, role=Role.viewer, expires_at=utcnow() + timedelta(days=1))
    session.add(invitation)
    session.flush()
    assert service.accept(session, invitation, people[Role.admin]).role == Role.admin


def test_roles_only_owners_make_or_unmake_owners(session, team):
    _, _, ms = team
    with pytest.raises(service.NotAllowed):
        service.change_role(session, ms[Role.admin], ms[Role.member], Role.owner)
    with pytest.raises(service.NotAllowed):
        service.change_role(session, ms[Role.admin], ms[Role.admin], Role.owner)  # not even oneself
    with pytest.raises(service.NotAllowed):
        service.change_role(session, ms[Role.member], ms[Role.viewer], Role.member)
    assert service.change_role(session, ms[Role.admin], ms[Role.viewer], Role.admin) is True
    assert service.change_role(session, ms[Role.admin], ms[Role.viewer], Role.admin) is False
    assert service.change_role(session, ms[Role.owner], ms[Role.member], Role.owner) is True
    with pytest.raises(service.NotAllowed):
        service.change_role(session, ms[Role.admin], ms[Role.member], Role.viewer)  # now an owner
    assert "member.role_changed" in _actions(session)


def test_the_last_owner_can_neither_be_demoted_nor_removed_nor_leave(session, team):
    _, _, ms = team
    owner = ms[Role.owner]
    with pytest.raises(service.LastOwner):
        service.change_role(session, owner, owner, Role.admin)
    with pytest.raises(service.LastOwner):
        service.leave(session, owner)
    with pytest.raises(service.InvalidInput):
        service.remove_member(session, owner, owner)
    with pytest.raises(service.NotAllowed):
        service.remove_member(session, ms[Role.admin], owner)
    assert owner.role == Role.owner
    # With a second owner, the first may step down.
    service.change_role(session, owner, ms[Role.admin], Role.owner)
    service.change_role(session, owner, owner, Role.member)
    assert owner.role == Role.member


def test_remove_and_leave(session, team):
    org, people, ms = team
    service.remove_member(session, ms[Role.admin], ms[Role.member])
    with pytest.raises(service.NotAllowed):
        service.remove_member(session, ms[Role.viewer], ms[Role.admin])
    service.leave(session, ms[Role.viewer])
    session.flush()
    left = {m.user_id for m in session.scalars(select(Membership).where(Membership.organization_id == org.id))}
    assert left == {people[Role.owner].id, people[Role.admin].id}
    assert _actions(session) == ["member.removed", "member.left"]


def test_transfer_ownership(session, team):
    _, _, ms = team
    with pytest.raises(service.NotAllowed):
        service.transfer_ownership(session, ms[Role.admin], ms[Role.member])
    with pytest.raises(service.InvalidInput):
        service.transfer_ownership(session, ms[Role.owner], ms[Role.owner])
    service.transfer_ownership(session, ms[Role.owner], ms[Role.member])
    assert (ms[Role.owner].role, ms[Role.member].role) == (Role.admin, Role.owner)
    assert "ownership.transferred" in _actions(session)


def test_members_are_listed_owners_first_and_only_this_organizations(session, team, make_org):
    org, people, _ = team
    make_org("Andere GmbH", owner=people[Role.viewer])
    listed = service.members(session, org.id)
    assert [t.membership.role for t in listed] == [Role.owner, Role.admin, Role.member, Role.viewer]
    assert {t.membership.organization_id for t in listed} == {org.id}
