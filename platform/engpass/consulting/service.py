"""Consulting rules: a client grants a consultancy access, by its invitation code or by approving its
request, and revokes it at once; which clients a consultant reaches, and with which role.

Plain functions over a ``Session``; the web, the CLI (demo) and the tests call them. Every change is
recorded in the audit log of both organizations, each in its own tenant context.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, bindparam, case, select
from sqlalchemy.orm import Session, aliased, contains_eager

from engpass import tenancy
from engpass.accounts.models import User
from engpass.audit.service import record
from engpass.consulting.models import AccessLevel, AccessRequest, ClientAccess, InvitationCode, RequestStatus
from engpass.db import utcnow
from engpass.organizations import memberships
from engpass.organizations.models import Membership, Organization, OrgKind, Role
from engpass.organizations.service import SLUG_PATTERN

# Unambiguous characters (no 0/O, 1/I/L): a code is read aloud on the phone and typed from a mail.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
CODE_GROUP = 4
# Requests a consultancy may have waiting at once: enough for a firm, too few to spam every slug.
MAX_PENDING_REQUESTS = 50
SLUG_IN_TEXT = re.compile(r"/o/([a-z0-9][a-z0-9-]{0,62})")

LEVEL_ROLE = {AccessLevel.read: Role.viewer, AccessLevel.edit: Role.member}


class ConsultingError(ValueError):
    """Refused by a consulting rule; ``message`` is user-facing and translated."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


# -- what consultants reach -------------------------------------------------------------------------


def effective_level(level: AccessLevel, consultancy_role: Role) -> AccessLevel:
    """A consultancy's viewers only read, whatever the client granted the firm."""
    return AccessLevel.read if consultancy_role == Role.viewer else level


def effective_role(level: AccessLevel) -> Role:
    """The role a consultant has inside a client: read access is a viewer's, edit access a member's.

    Never admin or owner: the client's settings, members, accesses and audit log stay the client's own.
    """
    return LEVEL_ROLE[level]


def clients_of(session: Session, user_id: int) -> list[tuple[Organization, AccessLevel]]:
    """The client organizations ``user_id`` reaches through the active accesses of every consultancy they
    are a member of, each once with the best level it gives them, ordered by name; one query."""
    return clients_of_users(session, [user_id]).get(user_id, [])


def clients_of_users(session: Session, user_ids: list[int]) -> dict[int, list[tuple[Organization, AccessLevel]]]:
    """``clients_of`` for many users in one query (a digest batch): by user id, users without clients left out."""
    stmt = (
        select(Membership.user_id, Organization, ClientAccess.level, Membership.role)
        .join(ClientAccess, ClientAccess.client_id == Organization.id)
        .join(Membership, memberships.in_org(ClientAccess.consultancy_id))
        .where(Membership.user_id.in_(user_ids), ClientAccess.revoked_at.is_(None))
        .order_by(Membership.user_id, Organization.name, Organization.id)
    )
    best: dict[int, dict[int, tuple[Organization, AccessLevel]]] = {}
    for user_id, org, level, role in session.execute(stmt):
        level = effective_level(level, role)
        clients = best.setdefault(user_id, {})
        if org.id not in clients or level == AccessLevel.edit:
            clients[org.id] = (org, level)
    return {user_id: list(clients.values()) for user_id, clients in best.items()}


@dataclass
class ConsultantSeat:
    """Where a consultant sits inside a client for one request: the client, the effective role and the
    consultancy they came through. Shaped like a ``Membership`` for the code that reads
    ``g.membership`` (``.role``, ``.organization``), but never saved: consultants are no members."""

    organization: Organization
    role: Role
    user_id: int
    consultancy: Organization
    level: AccessLevel

    @property
    def organization_id(self) -> int:
        return self.organization.id


_VIA = aliased(Membership, name="via")
_FIRM = aliased(Organization, name="consultancy")


def with_seat(stmt: Select[Any]) -> Select[Any]:
    """``stmt``, whose FROM holds ``User`` and the ``Organization`` in question, with the user's seat there
    added as the row's last five columns (membership, organization, access level, role in the consultancy,
    consultancy), read by ``seat_from``. One row: a membership wins; without one, an active access of a
    consultancy the user belongs to, edit before read (a consultancy's viewer only reads), then by the
    consultancy's name."""
    return (
        stmt.add_columns(Membership, Organization, ClientAccess.level, _VIA.role, _FIRM)
        .outerjoin(Membership, and_(memberships.in_org(Organization.id), Membership.user_id == User.id))
        # Accesses are looked at only when there is no membership: a member works as a member.
        .outerjoin(
            ClientAccess,
            and_(Membership.id.is_(None), ClientAccess.client_id == Organization.id, ClientAccess.revoked_at.is_(None)),
        )
        .outerjoin(_VIA, and_(memberships.in_org(ClientAccess.consultancy_id, _VIA), _VIA.user_id == User.id))
        .outerjoin(_FIRM, _FIRM.id == _VIA.organization_id)
        .order_by(
            Membership.id.is_(None),
            _VIA.id.is_(None),
            case((and_(ClientAccess.level == AccessLevel.edit, _VIA.role != Role.viewer), 0), else_=1),
            _FIRM.name,
        )
        .limit(1)
        # The membership's organization is the row's: no second query for it.
        .options(contains_eager(Membership.organization))
    )


def seat_from(user_id: int, seat_columns: Sequence[Any]) -> Membership | ConsultantSeat | None:
    """The seat in the last five columns of a ``with_seat`` row; None for neither membership nor access."""
    membership, org, level, role, firm = seat_columns
    if membership is not None:
        return membership
    if role is None:
        return None
    level = effective_level(level, role)
    return ConsultantSeat(org, effective_role(level), user_id, firm, level)


# Built once, at import: every request runs the same statement with other parameters, so no request builds
# it again or works out its cache key again; SQLAlchemy compiles it once per dialect. The user is the
# statement's root, so the user comes back even without a seat (the 404 page still knows who is signed in).
_SEAT = with_seat(
    select(User)
    .select_from(User)
    .outerjoin(Organization, Organization.slug == bindparam("slug"))
    .where(User.id == bindparam("user_id"))
)


def user_and_seat(session: Session, user_id: int, slug: str) -> tuple[User | None, Membership | ConsultantSeat | None]:
    """The user and their seat in the organization with ``slug``: their membership or, without one, their seat
    as a consultant through an active access of a consultancy they belong to. One statement; the user is None
    when there is no such user, the seat when there is neither (or no such organization)."""
    row = session.execute(_SEAT, {"user_id": user_id, "slug": slug}).first()
    if row is None:
        return None, None
    return row[0], seat_from(user_id, row[1:])


def seat_for(session: Session, slug: str, user_id: int) -> Membership | ConsultantSeat | None:
    """The user's seat in the organization with ``slug`` (see ``user_and_seat``); None for none. One query."""
    return user_and_seat(session, user_id, slug)[1]


# -- invitation codes -------------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """``ABCD-EFGH-JKMN``: easier to read out and to compare."""
    return "-".join(code[i : i + CODE_GROUP] for i in range(0, len(code), CODE_GROUP))


def normalize_code(text: str) -> str:
    """What a user typed, without spaces, dashes and case."""
    return re.sub(r"[\s\-_.]", "", text or "").upper()


def invitation_code(session: Session, consultancy: Organization, actor_id: int | None = None) -> InvitationCode:
    """The consultancy's current code, made on first use."""
    _require_consultancy(consultancy)
    code = session.get(InvitationCode, consultancy.id)
    if code is None:
        code = InvitationCode(organization_id=consultancy.id, code=new_code(), created_by_id=actor_id)
        session.add(code)
        session.flush()
    return code


def regenerate_code(session: Session, consultancy: Organization, actor_id: int) -> InvitationCode:
    """A new code; the old one stops working at once. Accesses granted with it stay."""
    code = invitation_code(session, consultancy, actor_id)
    code.code = new_code()
    code.created_at = utcnow()
    code.created_by_id = actor_id
    _record_in(session, consultancy.id, "consulting.code_regenerated", actor_id=actor_id)
    session.flush()
    return code


def consultancy_by_code(session: Session, text: str) -> Organization | None:
    code = normalize_code(text)
    if len(code) != CODE_LENGTH:
        return None
    stmt = select(Organization).join(InvitationCode, InvitationCode.organization_id == Organization.id)
    return session.scalars(stmt.where(InvitationCode.code == code)).first()


# -- granting, requests, revoking -------------------------------------------------------------------


def active_access(session: Session, consultancy_id: int, client_id: int) -> ClientAccess | None:
    stmt = select(ClientAccess).where(
        ClientAccess.consultancy_id == consultancy_id,
        ClientAccess.client_id == client_id,
        ClientAccess.revoked_at.is_(None),
    )
    return session.scalars(stmt).first()


def grant(
    session: Session, client: Organization, consultancy: Organization, level: AccessLevel, actor_id: int | None
) -> ClientAccess:
    """Give ``consultancy`` access to ``client`` (an admin of the client decides); a pending request of
    that consultancy is approved with it. An existing access gets the new level."""
    _require_consultancy(consultancy)
    if client.kind != OrgKind.company or client.id == consultancy.id:
        raise ConsultingError(_l("Only a company can grant a consultancy access."))
    level = AccessLevel(level)
    access = active_access(session, consultancy.id, client.id)
    if access is not None:
        if access.level != level:
            before = access.level
            access.level = level
            _record_both(
                session,
                client,
                consultancy,
                "consulting.access_changed",
                actor_id,
                access,
                changes={"level": [before.value, level.value]},
            )
    else:
        access = ClientAccess(consultancy_id=consultancy.id, client_id=client.id, level=level, granted_by_id=actor_id)
        session.add(access)
        session.flush()
        _record_both(session, client, consultancy, "consulting.access_granted", actor_id, access, level=level.value)
    now = utcnow()
    pending = select(AccessRequest).where(
        AccessRequest.consultancy_id == consultancy.id,
        AccessRequest.client_id == client.id,
        AccessRequest.status == RequestStatus.pending,
    )
    for request in session.scalars(pending):
        request.status, request.decided_at, request.decided_by_id = RequestStatus.approved, now, actor_id
    session.flush()
    return access


def grant_by_code(session: Session, client: Organization, code: str, level: AccessLevel, actor_id: int) -> ClientAccess:
    consultancy = consultancy_by_code(session, code)
    if consultancy is None or consultancy.id == client.id:
        raise ConsultingError(_l("No consultancy has this invitation code. Please check it with your consultant."))
    return grant(session, client, consultancy, level, actor_id)


def revoke(session: Session, client: Organization, access_id: int, actor_id: int | None) -> ClientAccess:
    """End an access of ``client`` at once: the consultants' next request answers 404."""
    access = session.get(ClientAccess, access_id)
    if access is None or access.client_id != client.id or access.revoked_at is not None:
        raise ConsultingError(_l("This access does not exist or has already been revoked."))
    access.revoked_at = utcnow()
    access.revoked_by_id = actor_id
    session.flush()
    _record_both(session, client, access.consultancy, "consulting.access_revoked", actor_id, access)
    return access


def parse_client_slug(text: str) -> str:
    """The client's address as typed: a slug, or a pasted link that contains ``/o/<slug>``."""
    text = (text or "").strip().lower()
    match = SLUG_IN_TEXT.search(text)
    return match.group(1) if match else text.strip("/")


def request_access(
    session: Session,
    consultancy: Organization,
    client_text: str,
    level: AccessLevel,
    message: str,
    actor_id: int | None,
) -> AccessRequest:
    """Ask a client for access by its address. Whether the address names a company or nothing, the
    consultancy sees the same pending request: asking never tells whether an organization exists."""
    _require_consultancy(consultancy)
    slug = parse_client_slug(client_text)
    if not SLUG_PATTERN.fullmatch(slug):
        raise ConsultingError(_l("Please enter the client's Engpass address, e.g. mueller-metallbau-gmbh."))
    client = session.scalars(select(Organization).where(Organization.slug == slug)).first()
    if client is not None and (client.kind != OrgKind.company or client.id == consultancy.id):
        client = None
    if client is not None and active_access(session, consultancy.id, client.id) is not None:
        raise ConsultingError(_l("This client has already granted you access."))
    level = AccessLevel(level)
    existing = session.scalars(
        select(AccessRequest).where(
            AccessRequest.consultancy_id == consultancy.id,
            AccessRequest.client_slug == slug,
            AccessRequest.status == RequestStatus.pending,
        )
    ).first()
    if existing is not None:
        existing.level, existing.message = level, message.strip()[:500]
        session.flush()
        return existing
    waiting = len(pending_requests_of_consultancy(session, consultancy.id))
    if waiting >= MAX_PENDING_REQUESTS:
        raise ConsultingError(_l("Too many requests are waiting for an answer. Please wait for some first."))
    request = AccessRequest(
        consultancy_id=consultancy.id,
        client_id=client.id if client is not None else None,
        client_slug=slug,
        level=level,
        message=message.strip()[:500],
        requested_by_id=actor_id,
    )
    session.add(request)
    session.flush()
    _record_in(
        session,
        consultancy.id,
        "consulting.access_requested",
        actor_id=actor_id,
        object_type="access_request",
        object_id=request.id,
        client=slug,
        level=level.value,
    )
    if client is not None:
        _record_in(
            session,
            client.id,
            "consulting.access_requested",
            actor_id=actor_id,
            object_type="access_request",
            object_id=request.id,
            consultancy=consultancy.name,
            level=level.value,
        )
    session.flush()
    return request


def _pending_request(session: Session, client: Organization, request_id: int) -> AccessRequest:
    request = session.get(AccessRequest, request_id)
    if request is None or request.client_id != client.id or request.status != RequestStatus.pending:
        raise ConsultingError(_l("This request does not exist or has already been answered."))
    return request


def approve_request(
    session: Session, client: Organization, request_id: int, level: AccessLevel, actor_id: int
) -> ClientAccess:
    """Grant what a consultancy asked for, at the level the client's admin chose."""
    request = _pending_request(session, client, request_id)
    return grant(session, client, request.consultancy, level, actor_id)


def decline_request(session: Session, client: Organization, request_id: int, actor_id: int) -> AccessRequest:
    request = _pending_request(session, client, request_id)
    request.status, request.decided_at, request.decided_by_id = RequestStatus.declined, utcnow(), actor_id
    session.flush()
    for org_id, other in ((client.id, request.consultancy.name), (request.consultancy_id, client.name)):
        _record_in(
            session,
            org_id,
            "consulting.request_declined",
            actor_id=actor_id,
            object_type="access_request",
            object_id=request.id,
            organization=other,
        )
    return request


# -- lists for the pages ----------------------------------------------------------------------------


def accesses_of_client(session: Session, client_id: int) -> list[ClientAccess]:
    """The consultancies with active access to a client, by name; one query."""
    stmt = (
        select(ClientAccess)
        .join(ClientAccess.consultancy)
        .where(ClientAccess.client_id == client_id, ClientAccess.revoked_at.is_(None))
        .options(contains_eager(ClientAccess.consultancy))
        .order_by(Organization.name)
    )
    return list(session.scalars(stmt))


def requests_to_client(session: Session, client_id: int) -> list[AccessRequest]:
    """Requests waiting for the client's answer, oldest first; one query."""
    stmt = (
        select(AccessRequest)
        .join(AccessRequest.consultancy)
        .where(AccessRequest.client_id == client_id, AccessRequest.status == RequestStatus.pending)
        .options(contains_eager(AccessRequest.consultancy))
        .order_by(AccessRequest.created_at, AccessRequest.id)
    )
    return list(session.scalars(stmt))


def pending_requests_of_consultancy(session: Session, consultancy_id: int) -> list[AccessRequest]:
    stmt = select(AccessRequest).where(
        AccessRequest.consultancy_id == consultancy_id, AccessRequest.status == RequestStatus.pending
    )
    return list(session.scalars(stmt))


def requests_of_consultancy(session: Session, consultancy_id: int, limit: int = 100) -> list[AccessRequest]:
    """The consultancy's requests, newest first. A declined request says so; the client's name is not
    shown for pending ones (the consultancy typed the address itself)."""
    stmt = (
        select(AccessRequest)
        .where(AccessRequest.consultancy_id == consultancy_id)
        .order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def client_ids_of_consultancy(session: Session, consultancy_id: int) -> list[int]:
    stmt = select(ClientAccess.client_id).where(
        ClientAccess.consultancy_id == consultancy_id, ClientAccess.revoked_at.is_(None)
    )
    return list(session.scalars(stmt))


# -- helpers ----------------------------------------------------------------------------------------


def _require_consultancy(org: Organization) -> None:
    if org.kind != OrgKind.consultancy:
        raise ConsultingError(_l("Only a consultancy can work for clients."))


def _record_in(session: Session, org_id: int, action: str, *, actor_id: int | None, **details: Any) -> None:
    """An audit event in ``org_id``'s log, flushed inside its tenant context (layer 2 checks the write)."""
    with tenancy.tenant_context(session, org_id):
        record(session, action, actor_id=actor_id, **details)
        session.flush()


def _record_both(
    session: Session,
    client: Organization,
    consultancy: Organization,
    action: str,
    actor_id: int | None,
    access: ClientAccess,
    **details: Any,
) -> None:
    """The same change in the client's log (naming the consultancy) and in the consultancy's (naming the client)."""
    for org_id, other in ((client.id, consultancy.name), (consultancy.id, client.name)):
        _record_in(
            session,
            org_id,
            action,
            actor_id=actor_id,
            object_type="client_access",
            object_id=access.id,
            organization=other,
            **details,
        )
