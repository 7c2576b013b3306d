"""The team's rules: invitations, roles, removing, leaving and handing over ownership.

Plain functions over a ``Session`` inside the organization's tenant context; the web calls them, the
tests call them without HTTP. A refusal is a ``TeamError`` whose message says why, in the reader's
language, and whose ``status`` the web answers with. Nothing here commits: the caller does, so the
change, its audit event and its outbox message are one transaction.

Owners: an organization always keeps at least one. The last owner can neither leave, nor be
removed, nor be demoted; hand over ownership first. The owners are read ``FOR UPDATE`` (PostgreSQL;
SQLite serialises writers anyway), so two owners demoting each other at once cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engpass import task_names
from engpass.accounts.models import User, normalize_email
from engpass.audit.service import record
from engpass.db import utcnow
from engpass.organizations import memberships
from engpass.organizations.models import Membership, Organization, Role
from engpass.organizations.permissions import Action, allows
from engpass.outbox.service import enqueue
from engpass.routing import ID_MAX
from engpass.team.models import Invitation

INVITATION_VALID = timedelta(days=7)
# Bytes of randomness in a link's token (256 bits).
TOKEN_BYTES = 32


class TeamError(Exception):
    """A refused change, with the message to show and the HTTP status to answer with."""

    status = 409

    def __init__(self, message: str | LazyString) -> None:
        super().__init__(str(message))
        self.message = message


class NotAllowed(TeamError):
    status = 403


class LastOwner(TeamError):
    status = 409


class InvalidInput(TeamError):
    status = 422


@dataclass(frozen=True)
class TeamMember:
    membership: Membership
    user: User


# --- reading ------------------------------------------------------------------------------------


def members(session: Session, org_id: int) -> list[TeamMember]:
    """Everyone in the organization, owners first, then by name; one query."""
    rank = {Role.owner: 0, Role.admin: 1, Role.member: 2, Role.viewer: 3}
    found = [TeamMember(m, m.user) for m in memberships.with_users(session, org_id)]
    return sorted(found, key=lambda t: (rank[t.membership.role], t.user.name.casefold(), t.user.id))


def open_invitations(session: Session) -> list[Invitation]:
    """The current organization's invitations that are neither accepted nor cancelled, newest first."""
    stmt = (
        select(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.cancelled_at.is_(None))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    return list(session.scalars(stmt))


def _is_last_owner(session: Session, membership: Membership) -> bool:
    return membership.role == Role.owner and memberships.lock_owners(session, membership.organization_id) == [
        membership.id
    ]


def _audit(
    session: Session, action: str, actor: Membership | None, *, object_type: str = "membership", **details: object
) -> None:
    record(session, action, actor_id=actor.user_id if actor else None, object_type=object_type, **details)


# --- invitations --------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def org_id_of_token(token: str) -> int | None:
    """The organization a link's token names (``<org id>.<random>``), or None when it is malformed.

    The id in front is what lets the public accept page open the right tenant context; it proves
    nothing — only the hash of the whole token, found in that organization, does.
    """
    prefix, dot, rest = token.partition(".")
    if not dot or not (prefix.isascii() and prefix.isdigit()) or len(prefix) > 12 or not 20 <= len(rest) <= 100:
        return None
    # Beyond the id column's range PostgreSQL would refuse the tenant setting itself.
    org_id = int(prefix)
    return org_id if org_id <= ID_MAX else None


def invite(
    session: Session, org: Organization, actor: Membership, email: str, role: Role, *, now: datetime | None = None
) -> Invitation:
    """Invite ``email`` as ``role``; the mail goes out from a worker after the commit."""
    if not allows(actor.role, Action.invite_members):
        raise NotAllowed(_l("Only owners and admins can invite people."))
    if role == Role.owner and not allows(actor.role, Action.manage_owners):
        raise NotAllowed(_l("Only owners can invite further owners."))
    address = normalize_email(email)
    if memberships.has_member_with_email(session, org.id, address):
        raise InvalidInput(_l("This person is already a member of the team."))
    now = now or utcnow()
    pending = [inv for inv in session.scalars(select(Invitation).where(Invitation.email == address)) if inv.is_open]
    if any(not inv.is_expired(now) for inv in pending):
        raise InvalidInput(_l("An invitation to this address is still open. Resend it from the list below."))
    # An expired one is replaced by the new invitation, so the list shows each address once.
    for inv in pending:
        inv.cancelled_at = now
    invitation = Invitation(
        email=address, role=role, invited_by_id=actor.user_id, created_at=now, expires_at=now + INVITATION_VALID
    )
    session.add(invitation)
    session.flush()
    _audit(
        session,
        "member.invited",
        actor,
        object_type="invitation",
        object_id=invitation.id,
        email=address,
        role=role.value,
    )
    _request_mail(session, invitation)
    return invitation


def _request_mail(session: Session, invitation: Invitation) -> None:
    enqueue(session, task_names.SEND_INVITATION, invitation_id=invitation.id, send_round=invitation.send_round)


def _open_or_refuse(invitation: Invitation) -> None:
    if invitation.accepted_at is not None:
        raise InvalidInput(_l("This invitation was already accepted."))
    if invitation.cancelled_at is not None:
        raise InvalidInput(_l("This invitation was cancelled."))


def resend(session: Session, invitation: Invitation, actor: Membership, *, now: datetime | None = None) -> None:
    """A new token in a new mail, valid seven days from now; the old link stops working at once."""
    if not allows(actor.role, Action.invite_members):
        raise NotAllowed(_l("Only owners and admins can invite people."))
    _open_or_refuse(invitation)
    now = now or utcnow()
    invitation.token_hash = None
    invitation.send_round += 1
    invitation.sent_at = None
    invitation.mail_error = None
    invitation.expires_at = now + INVITATION_VALID
    _audit(
        session, "invitation.resent", actor, object_type="invitation", object_id=invitation.id, email=invitation.email
    )
    _request_mail(session, invitation)


def cancel(session: Session, invitation: Invitation, actor: Membership, *, now: datetime | None = None) -> None:
    if not allows(actor.role, Action.invite_members):
        raise NotAllowed(_l("Only owners and admins can invite people."))
    _open_or_refuse(invitation)
    # The hash stays, so the link answers "cancelled" instead of "unknown".
    invitation.cancelled_at = now or utcnow()
    _audit(
        session,
        "invitation.cancelled",
        actor,
        object_type="invitation",
        object_id=invitation.id,
        email=invitation.email,
    )


def issue_token(session: Session, invitation: Invitation) -> str | None:
    """Make the link's token for the invitation's current send round and keep its hash; None when
    another delivery of the same round already made one (or the invitation was resent, accepted or
    cancelled meanwhile). The conditional UPDATE is the claim: of two workers exactly one gets it."""
    token = f"{invitation.organization_id}.{secrets.token_urlsafe(TOKEN_BYTES)}"
    result = session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.send_round == invitation.send_round,
            Invitation.token_hash.is_(None),
            Invitation.accepted_at.is_(None),
            Invitation.cancelled_at.is_(None),
        )
        .values(token_hash=hash_token(token))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(invitation)
    return token


def release_token(session: Session, invitation: Invitation, error: str) -> None:
    """A send that failed for now: forget the token nobody received, so a retry makes a new one."""
    invitation.token_hash = None
    invitation.mail_error = error[:2000]


def find_invitation(session: Session, token: str) -> Invitation | None:
    """The invitation a link's token belongs to, in the current tenant context (set from the token)."""
    return session.scalars(select(Invitation).where(Invitation.token_hash == hash_token(token))).first()


def accept(session: Session, invitation: Invitation, user: User, *, now: datetime | None = None) -> Membership:
    """Add ``user`` to the team with the invitation's role; the invitation is used up.

    The account's address must be the invited one. Someone who is already a member keeps their
    membership and role (an invitation never demotes), and the invitation is used up all the same.
    """
    now = now or utcnow()
    _open_or_refuse(invitation)
    if invitation.is_expired(now):
        raise InvalidInput(_l("This invitation has expired. Ask for a new one."))
    if normalize_email(user.email) != invitation.email:
        raise NotAllowed(_l("This invitation was sent to another e-mail address."))
    # Claimed with a conditional UPDATE before anything else: of two acceptances at once (a double click,
    # two tabs) one wins and the other is told the invitation is used, instead of a duplicate membership.
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None), Invitation.cancelled_at.is_(None))
        .values(accepted_at=now, accepted_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidInput(_l("This invitation was already accepted."))
    session.refresh(invitation)
    org_id = invitation.organization_id
    membership = memberships.membership_of(session, org_id, user.id)
    if membership is None:
        membership = Membership(organization_id=org_id, user_id=user.id, role=invitation.role)
        session.add(membership)
        session.flush()
    record(
        session,
        "invitation.accepted",
        actor_id=user.id,
        object_type="membership",
        object_id=membership.id,
        invitation_id=invitation.id,
        role=membership.role.value,
    )
    return membership


# --- members ------------------------------------------------------------------------------------


def change_role(session: Session, actor: Membership, target: Membership, role: Role) -> bool:
    """Give ``target`` the role ``role``; False when it already has it."""
    if not allows(actor.role, Action.change_roles):
        raise NotAllowed(_l("Only owners and admins can change roles."))
    if role == target.role:
        return False
    if Role.owner in (role, target.role) and not allows(actor.role, Action.manage_owners):
        raise NotAllowed(_l("Only owners can make someone an owner or change an owner's role."))
    if target.role == Role.owner and _is_last_owner(session, target):
        raise LastOwner(
            _l("The last owner cannot be given another role. Make someone else an owner or transfer ownership first.")
        )
    old = target.role
    target.role = role
    session.flush()
    _audit(
        session,
        "member.role_changed",
        actor,
        object_id=target.id,
        user_id=target.user_id,
        old=old.value,
        new=role.value,
    )
    return True


def remove_member(session: Session, actor: Membership, target: Membership) -> None:
    if target.id == actor.id:
        raise InvalidInput(_l("To leave the organization yourself, use “Leave organization”."))
    if not allows(actor.role, Action.remove_members):
        raise NotAllowed(_l("Only owners and admins can remove members."))
    if target.role == Role.owner and not allows(actor.role, Action.manage_owners):
        raise NotAllowed(_l("Only owners can remove an owner."))
    if _is_last_owner(session, target):
        raise LastOwner(_l("The last owner cannot be removed."))
    _audit(session, "member.removed", actor, object_id=target.id, user_id=target.user_id, role=target.role.value)
    session.delete(target)
    session.flush()


def leave(session: Session, membership: Membership) -> None:
    if not isinstance(membership, Membership):
        # A consultant's seat in a client (consulting.service.ConsultantSeat) is no membership: it ends when
        # the client revokes the access, or the consultancy's people leave the consultancy.
        raise NotAllowed(_l("Consultants are not members of this team. The client can revoke the access."))
    if _is_last_owner(session, membership):
        raise LastOwner(
            _l("You are the last owner. Transfer ownership to someone else before you leave the organization.")
        )
    _audit(session, "member.left", membership, object_id=membership.id, user_id=membership.user_id)
    session.delete(membership)
    session.flush()


def transfer_ownership(session: Session, actor: Membership, target: Membership) -> None:
    """``target`` becomes owner, ``actor`` steps down to admin: one owner hands the organization over."""
    if not allows(actor.role, Action.transfer_ownership):
        raise NotAllowed(_l("Only an owner can transfer ownership."))
    if target.id == actor.id:
        raise InvalidInput(_l("Choose another member to transfer ownership to."))
    if target.role == Role.owner:
        raise InvalidInput(_l("This member is already an owner."))
    memberships.lock_owners(session, actor.organization_id)  # the lock, as for every change of owners
    old = target.role
    target.role = Role.owner
    actor.role = Role.admin
    session.flush()
    _audit(
        session,
        "ownership.transferred",
        actor,
        object_id=target.id,
        user_id=target.user_id,
        old=old.value,
        previous_owner_id=actor.user_id,
    )
