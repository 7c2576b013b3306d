"""Consulting rules without HTTP: invitation codes, requests, grants, revocation, and what consultants reach."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel, AccessRequest, RequestStatus
from engpass.consulting.service import ConsultantSeat, ConsultingError
from engpass.organizations.models import Membership, OrgKind, Role


@pytest.fixture
def firm(make_org, make_user):
    petra = make_user("petra@weber.example", "Petra Weber")
    org = make_org("Weber & Partner", owner=petra, kind=OrgKind.consultancy)
    return org, petra


def _events(session, org_id):
    with tenancy.tenant_context(session, org_id):
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_clients_of_lists_active_accesses_by_name_in_one_query(session, make_org, make_user, firm, count_queries):
    consultancy, petra = firm
    zeta = make_org("Zeta GmbH")
    alpha = make_org("Alpha KG")
    gone = make_org("Beta AG")
    make_org("Nicht Kunde GmbH")
    for client, level in ((zeta, AccessLevel.read), (alpha, AccessLevel.edit), (gone, AccessLevel.edit)):
        consulting.grant(session, client, consultancy, level, None)
    access = consulting.active_access(session, consultancy.id, gone.id)
    consulting.revoke(session, gone, access.id, None)
    session.commit()
    with count_queries() as counter:
        clients = consulting.clients_of(session, petra.id)
    assert counter.count == 1
    assert [(org.name, level) for org, level in clients] == [("Alpha KG", AccessLevel.edit), ("Zeta GmbH", "read")]
    assert consulting.clients_of(session, make_user().id) == []


def test_clients_of_takes_the_best_level_of_several_consultancies_and_a_viewer_only_reads(
    session, make_org, make_user, firm
):
    consultancy, petra = firm
    other = make_org("Zweite Beratung", kind=OrgKind.consultancy, members={petra: Role.viewer})
    junior = make_user()
    session.add(Membership(user_id=junior.id, organization_id=consultancy.id, role=Role.viewer))
    client = make_org("Kunde GmbH")
    consulting.grant(session, client, other, AccessLevel.edit, None)
    consulting.grant(session, client, consultancy, AccessLevel.edit, None)
    session.commit()
    assert [(o.id, level) for o, level in consulting.clients_of(session, petra.id)] == [(client.id, "edit")]
    assert [(o.id, level) for o, level in consulting.clients_of(session, junior.id)] == [(client.id, "read")]


def test_seat_for_prefers_membership_and_gives_consultants_an_effective_role(session, make_org, make_user, firm):
    consultancy, petra = firm
    client = make_org("Kunde GmbH")
    assert consulting.seat_for(session, client.slug, petra.id) is None
    consulting.grant(session, client, consultancy, AccessLevel.read, None)
    seat = consulting.seat_for(session, client.slug, petra.id)
    assert isinstance(seat, ConsultantSeat)
    assert (seat.organization.id, seat.role, seat.consultancy.id) == (client.id, Role.viewer, consultancy.id)
    consulting.grant(session, client, consultancy, AccessLevel.edit, None)
    assert consulting.seat_for(session, client.slug, petra.id).role == Role.member
    own = consulting.seat_for(session, consultancy.slug, petra.id)
    assert isinstance(own, Membership) and own.role == Role.owner
    # A member of the client works there as a member, not as a consultant.
    session.add(Membership(user_id=petra.id, organization_id=client.id, role=Role.admin))
    session.flush()
    assert isinstance(consulting.seat_for(session, client.slug, petra.id), Membership)


def test_the_user_and_the_seat_come_in_one_statement(session, make_org, make_user, firm, count_queries):
    consultancy, petra = firm
    client = make_org("Kunde GmbH")
    other_firm = make_org("Andere Beratung", kind=OrgKind.consultancy)
    consulting.grant(session, client, other_firm, AccessLevel.edit, None)
    consulting.grant(session, client, consultancy, AccessLevel.read, None)
    session.commit()

    def lookup(user_id, slug):
        session.expunge_all()
        with count_queries() as counter:
            found = consulting.user_and_seat(session, user_id, slug)
        assert counter.count == 1, counter.statements
        return found

    user, seat = lookup(petra.id, consultancy.slug)
    assert user.id == petra.id and isinstance(seat, Membership) and seat.role == Role.owner
    assert seat.organization.slug == consultancy.slug
    # Through her own firm's read access, not the other firm's edit access.
    user, seat = lookup(petra.id, client.slug)
    assert isinstance(seat, ConsultantSeat) and user.id == petra.id
    assert (seat.organization.id, seat.consultancy.id, seat.role) == (client.id, consultancy.id, Role.viewer)
    # Signed in, but no such organization: the user still comes back (the 404 page knows who is there).
    user, seat = lookup(petra.id, "gibt-es-nicht")
    assert user.id == petra.id and seat is None
    assert lookup(petra.id + 1000, consultancy.slug) == (None, None)
    access = consulting.active_access(session, consultancy.id, client.id)
    consulting.revoke(session, client, access.id, None)
    session.commit()
    user, seat = lookup(petra.id, client.slug)
    assert user.id == petra.id and seat is None
    stranger = make_user()
    session.add(Membership(user_id=stranger.id, organization_id=client.id, role=Role.member))
    session.commit()
    assert isinstance(lookup(stranger.id, client.slug)[1], Membership)
    session.delete(session.scalars(select(Membership).where(Membership.user_id == stranger.id)).one())
    session.commit()
    assert lookup(stranger.id, client.slug)[1] is None


def test_grant_by_code_and_regenerate(session, make_org, make_user, firm):
    consultancy, petra = firm
    client = make_org("Kunde GmbH")
    admin = make_user()
    code = consulting.invitation_code(session, consultancy, petra.id).code
    assert len(code) == consulting.CODE_LENGTH
    typed = consulting.format_code(code).lower()
    access = consulting.grant_by_code(session, client, f" {typed} ", AccessLevel.edit, admin.id)
    assert access.level == AccessLevel.edit and access.granted_by_id == admin.id
    old = code
    new = consulting.regenerate_code(session, consultancy, petra.id).code
    assert new != old
    other = make_org("Andere GmbH")
    with pytest.raises(ConsultingError):
        consulting.grant_by_code(session, other, old, AccessLevel.read, admin.id)
    with pytest.raises(ConsultingError):
        consulting.grant_by_code(session, other, "nonsense", AccessLevel.read, admin.id)
    # A consultancy cannot become its own client, nor a client of another consultancy.
    with pytest.raises(ConsultingError):
        consulting.grant_by_code(session, consultancy, new, AccessLevel.read, petra.id)
    client_log = [e.action for e in _events(session, client.id)]
    firm_log = [e.action for e in _events(session, consultancy.id)]
    assert "consulting.access_granted" in client_log
    assert {"consulting.access_granted", "consulting.code_regenerated"} <= set(firm_log)


def test_request_approve_decline(session, make_org, make_user, firm):
    consultancy, petra = firm
    client = make_org("Kunde GmbH")
    admin = make_user()
    request = consulting.request_access(
        session, consultancy, f"https://engpass.example/o/{client.slug}/", AccessLevel.edit, "Hallo", petra.id
    )
    assert request.client_id == client.id and request.status == RequestStatus.pending
    # Asking again updates the waiting request instead of adding one.
    again = consulting.request_access(session, consultancy, client.slug, AccessLevel.read, "", petra.id)
    assert again.id == request.id and again.level == AccessLevel.read
    assert [r.id for r in consulting.requests_to_client(session, client.id)] == [request.id]
    access = consulting.approve_request(session, client, request.id, AccessLevel.read, admin.id)
    assert access.level == AccessLevel.read and request.status == RequestStatus.approved
    with pytest.raises(ConsultingError):
        consulting.approve_request(session, client, request.id, AccessLevel.read, admin.id)
    with pytest.raises(ConsultingError):
        consulting.request_access(session, consultancy, client.slug, AccessLevel.read, "", petra.id)

    second = make_org("Zweiter Kunde")
    declined = consulting.request_access(session, consultancy, second.slug, AccessLevel.read, "", petra.id)
    consulting.decline_request(session, second, declined.id, admin.id)
    assert declined.status == RequestStatus.declined
    assert consulting.active_access(session, consultancy.id, second.id) is None
    assert "consulting.request_declined" in [e.action for e in _events(session, consultancy.id)]
    # Another client cannot answer a request that is not addressed to it.
    third = consulting.request_access(session, consultancy, second.slug, AccessLevel.read, "", petra.id)
    with pytest.raises(ConsultingError):
        consulting.approve_request(session, client, third.id, AccessLevel.edit, admin.id)


def test_a_request_to_an_unknown_address_looks_like_any_other(session, make_org, firm):
    consultancy, petra = firm
    other_firm = make_org("Konkurrenz Beratung", kind=OrgKind.consultancy)
    for slug in ("gibt-es-nicht", other_firm.slug, consultancy.slug):
        request = consulting.request_access(session, consultancy, slug, AccessLevel.read, "", petra.id)
        assert request.status == RequestStatus.pending and request.client_id is None
    with pytest.raises(ConsultingError):
        consulting.request_access(session, consultancy, "Müller GmbH!", AccessLevel.read, "", petra.id)
    assert len(session.scalars(select(AccessRequest)).all()) == 3


def test_revoke_only_own_active_accesses(session, make_org, make_user, firm):
    consultancy, petra = firm
    client = make_org("Kunde GmbH")
    other = make_org("Andere GmbH")
    access = consulting.grant(session, client, consultancy, AccessLevel.edit, None)
    with pytest.raises(ConsultingError):
        consulting.revoke(session, other, access.id, None)
    consulting.revoke(session, client, access.id, None)
    assert access.revoked_at is not None
    assert consulting.seat_for(session, client.slug, petra.id) is None
    with pytest.raises(ConsultingError):
        consulting.revoke(session, client, access.id, None)
    assert [a.id for a in consulting.accesses_of_client(session, client.id)] == []
    # Granted again: a new row, the old one stays as history.
    again = consulting.grant(session, client, consultancy, AccessLevel.read, None)
    assert again.id != access.id


def test_only_companies_grant_and_only_consultancies_receive(session, make_org, firm):
    consultancy, _petra = firm
    company = make_org("Kunde GmbH")
    other = make_org("Andere GmbH")
    with pytest.raises(ConsultingError):
        consulting.grant(session, company, other, AccessLevel.read, None)
    with pytest.raises(ConsultingError):
        consulting.grant(session, consultancy, consultancy, AccessLevel.read, None)


def test_row_level_security_lets_a_consultancy_read_only_its_active_clients_trend_state(
    postgres, session, make_org, firm
):
    from sqlalchemy import text

    from engpass.trends.models import TrendState

    consultancy, _petra = firm
    client = make_org("Kunde GmbH")
    revoked = make_org("Ehemaliger Kunde")
    stranger = make_org("Fremde GmbH")
    for org in (client, revoked, stranger):
        with tenancy.tenant_context(session, org.id):
            session.add(TrendState(version=1, computed_version=1, portfolio={"v": 1}))
            session.flush()
    consulting.grant(session, client, consultancy, AccessLevel.read, None)
    access = consulting.grant(session, revoked, consultancy, AccessLevel.read, None)
    consulting.revoke(session, revoked, access.id, None)
    session.flush()
    with tenancy.tenant_context(session, consultancy.id):
        visible = session.execute(text("SELECT organization_id FROM trend_states")).scalars().all()
        assert visible == [client.id]
        # Only reading: the second policy is SELECT only, and nothing else of the client's is visible.
        assert session.execute(text("SELECT count(*) FROM trend_snapshots")).scalar() == 0
        updated = session.execute(text("UPDATE trend_states SET version = 99 RETURNING id")).all()
        assert updated == []
