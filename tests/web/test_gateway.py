"""Entering an organization: the signed-in user and their seat there are one statement, for a member and for a
consultant, and a session whose password changed since finds no seat."""

from __future__ import annotations

from flask import g
from flask import session as cookie

from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel
from engpass.consulting.service import ConsultantSeat
from engpass.organizations.context import LAST_ORG_KEY
from engpass.organizations.models import Membership, OrgKind, Role


def _enter(app, count_queries, user, slug):
    """The statements of an organization request up to its view, and the seat it entered."""
    with app.test_request_context(f"/o/{slug}/"):
        cookie["_user_id"] = user.get_id()
        # Not the first visit: the first records the organization as last used (an UPDATE of the membership).
        cookie[LAST_ORG_KEY] = slug
        with count_queries() as counter:
            answer = app.preprocess_request()
        return counter, answer, g.get("membership")


def test_a_member_enters_with_one_statement(app, make_user, make_org, count_queries):
    owner = make_user()
    org = make_org("Müller Metallbau GmbH", owner=owner)
    counter, answer, seat = _enter(app, count_queries, owner, org.slug)
    assert answer is None
    assert isinstance(seat, Membership) and seat.role == Role.owner and seat.organization_id == org.id
    assert counter.count == 1, counter.statements


def test_a_consultant_enters_with_one_statement(app, session, make_user, make_org, count_queries):
    petra = make_user()
    firm = make_org("Weber & Partner", owner=petra, kind=OrgKind.consultancy)
    client = make_org("Kunde GmbH")
    consulting.grant(session, client, firm, AccessLevel.edit, None)
    session.commit()
    counter, answer, seat = _enter(app, count_queries, petra, client.slug)
    assert answer is None
    assert isinstance(seat, ConsultantSeat) and seat.role == Role.member and seat.consultancy.id == firm.id
    assert counter.count == 1, counter.statements


def test_an_old_session_token_enters_nowhere(app, session, make_user, make_org, count_queries):
    owner = make_user()
    org = make_org("Müller Metallbau GmbH", owner=owner)
    old = owner.get_id()
    owner.set_password("ein ganz neues Passwort")
    session.commit()
    assert owner.get_id() != old
    with app.test_request_context(f"/o/{org.slug}/"):
        cookie["_user_id"] = old
        answer = app.preprocess_request()
        assert answer is not None and answer.status_code == 302 and "/login" in answer.location
        assert g.get("membership") is None
