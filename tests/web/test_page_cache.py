"""The dashboard served whole from Redis: without a query while nothing on it changed, and never
after a change to what it shows, to who may see it or to the session that asked."""

import gzip
from datetime import date, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select

from engpass import tenancy
from engpass.compression import gzipped
from engpass.demo.cycles import SHOP, build_chain
from engpass.organizations.models import Membership, Role
from engpass.page_cache import page_cache
from engpass.trends import service as trends
from tests.support.accounts import PASSWORD


@pytest.fixture
def cached(redis_url, app):
    """The page cache on the test Redis, under a prefix of this test's own."""
    page_cache.configure(redis_url, prefix=f"engpass-test:{uuid4().hex}:")
    yield page_cache
    page_cache.configure(None)


def warm(client, slug):
    """The first visit records the organization and the CSRF secret, the second stores the page."""
    for _ in range(2):
        assert client.get(f"/o/{slug}/").status_code == 200


@pytest.fixture
def filled(session, make_user, make_org, login, cached):
    owner = make_user(name="Olga Owner")
    org = make_org("Cache GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        build_chain(session, SHOP, date.today() - timedelta(days=3), owner.id, seed=3)
        trends.recompute(session)
        session.commit()
    login(owner)
    return owner, org


def test_a_repeated_visit_is_served_without_a_query(client, filled, count_queries):
    _, org = filled
    warm(client, org.slug)
    with count_queries() as counter:
        again = client.get(f"/o/{org.slug}/")
    assert again.status_code == 200
    assert counter.count == 0
    assert again.text.count("<svg") == 5
    assert again.headers["Cache-Control"] == "private, no-store"
    assert again.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_a_cycle_change_and_the_recompute_show_on_the_next_visit(client, session, filled, count_queries):
    _, org = filled
    warm(client, org.slug)
    assert "werden gerade ausgewertet" not in client.get(f"/o/{org.slug}/").text
    with tenancy.tenant_context(session, org.id):
        trends.mark_changed(session)
        session.commit()
    assert "werden gerade ausgewertet" in client.get(f"/o/{org.slug}/").text
    with tenancy.tenant_context(session, org.id):
        trends.recompute(session)
        session.commit()
    with count_queries() as counter:
        page = client.get(f"/o/{org.slug}/")
    assert "werden gerade ausgewertet" not in page.text
    assert counter.count > 0


def test_a_removed_member_gets_404_at_once(client, session, make_user, make_org, login, cached):
    member = make_user()
    org = make_org("Verlassen GmbH", owner=make_user(), members={member: Role.member})
    login(member)
    warm(client, org.slug)
    session.delete(session.scalars(select(Membership).filter_by(user_id=member.id, organization_id=org.id)).one())
    session.commit()
    assert client.get(f"/o/{org.slug}/").status_code == 404


def test_a_new_role_shows_at_once(client, session, make_user, make_org, login, cached):
    viewer = make_user()
    org = make_org("Rollen GmbH", owner=make_user(), members={viewer: Role.viewer})
    login(viewer)
    warm(client, org.slug)
    assert "Ersten Engpass benennen" not in client.get(f"/o/{org.slug}/").text
    membership = session.scalars(select(Membership).filter_by(user_id=viewer.id, organization_id=org.id)).one()
    membership.role = Role.member
    session.commit()
    assert "Ersten Engpass benennen" in client.get(f"/o/{org.slug}/").text


def test_a_password_change_signs_out_the_other_session_at_once(app, session, make_user, make_org, login, cached):
    user = make_user()
    org = make_org("Passwort GmbH", owner=user)
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    warm(other, org.slug)
    user.set_password("ein-ganz-neues-passwort")
    session.commit()
    again = other.get(f"/o/{org.slug}/")
    assert again.status_code == 302
    assert "/login" in again.headers["Location"]


def test_a_renamed_organization_shows_in_the_switcher_of_its_members_other_pages(
    client, session, make_user, make_org, login, cached
):
    user = make_user()
    home, elsewhere = make_org("Heim GmbH", owner=user), make_org("Alt GmbH", owner=user)
    login(user)
    warm(client, home.slug)
    assert "Alt GmbH" in client.get(f"/o/{home.slug}/").text
    elsewhere.name = "Neu GmbH"
    session.commit()
    page = client.get(f"/o/{home.slug}/").text
    assert "Neu GmbH" in page
    assert "Alt GmbH" not in page


def test_each_session_gets_its_own_page(app, client, filled, make_user, session):
    owner, org = filled
    colleague = make_user(name="Carla Colleague")
    session.add(Membership(user_id=colleague.id, organization_id=org.id, role=Role.member))
    session.commit()
    warm(client, org.slug)
    theirs = app.test_client()
    theirs.post("/login", data={"email": colleague.email, "password": PASSWORD})
    warm(theirs, org.slug)
    mine, their_page = client.get(f"/o/{org.slug}/").text, theirs.get(f"/o/{org.slug}/").text
    assert "Olga Owner" in mine and "Carla Colleague" not in mine
    assert "Carla Colleague" in their_page and "Olga Owner" not in their_page


def test_another_tenants_cached_page_stays_404(app, client, filled, make_user):
    _, org = filled
    warm(client, org.slug)
    stranger = make_user()
    theirs = app.test_client()
    theirs.post("/login", data={"email": stranger.email, "password": PASSWORD})
    for _ in range(3):
        assert theirs.get(f"/o/{org.slug}/").status_code == 404


def test_a_flashed_message_is_shown_once_and_never_cached(client, filled):
    _, org = filled
    warm(client, org.slug)
    with client.session_transaction() as cookie_session:
        cookie_session["_flashes"] = [("info", "Einmalige Nachricht")]
    assert "Einmalige Nachricht" in client.get(f"/o/{org.slug}/").text
    assert "Einmalige Nachricht" not in client.get(f"/o/{org.slug}/").text


def test_a_language_switch_gets_a_page_in_that_language(client, filled):
    _, org = filled
    warm(client, org.slug)
    assert 'lang="de"' in client.get(f"/o/{org.slug}/").text
    client.post("/language", data={"locale": "en", "next": f"/o/{org.slug}/"})
    warm(client, org.slug)
    assert 'lang="en"' in client.get(f"/o/{org.slug}/").text


def test_without_redis_the_dashboard_is_served_uncached(client, filled, count_queries):
    _, org = filled
    page_cache.configure("redis://127.0.0.1:1/0")
    warm(client, org.slug)
    with count_queries() as counter:
        page = client.get(f"/o/{org.slug}/")
    assert page.status_code == 200
    assert counter.count > 0


@pytest.mark.parametrize("hidden", [b"", b"IjNmYTI.aW5.sig-_x"])
def test_a_compressed_page_reads_back_whole(hidden):
    page = b"<p>" + b"<tr><td>Kunde</td><td>3</td></tr>" * 500 + hidden + b"<form>" + hidden + b"</form>" + hidden
    stored = gzipped(page, hidden)
    assert gzip.decompress(stored) == page and len(stored) < len(page) / 5


def test_the_compressed_length_tells_nothing_about_the_hidden_token():
    """BREACH: text on the page that resembles the CSRF token must not make the page shorter."""
    token, other = b"IjVhZGQ5YjQ4ZDM4OGQ5NDQ1Ig.aW5hZQ.c2lnbmF0dXJl", b"Qk1tZ3Zxb2xhcGVyZWt0eXVpIg.bW9wcQ.eHl6YWJjZGVm"
    for reflected in (token[:-1], other[:-1], b"nothing alike"):
        lengths = set()
        for value in (token, other):
            page = b"<p>Kunden</p>" * 50 + b'<input value="' + value + b'">' + reflected + b"<p>" * 20
            lengths.add(len(gzipped(page, value)))
            assert gzip.decompress(gzipped(page, value)) == page
        assert len(lengths) == 1, (reflected, lengths)
    # Without the stretch kept apart, a guess that matches more of the token gives a shorter page.
    plain = [
        len(gzip.compress(b"<p>x</p>" * 50 + b'<input value="' + token + b'">' + guess, mtime=0))
        for guess in (token[:-1], other[:-1])
    ]
    assert plain[0] < plain[1]


def test_a_new_candidate_shows_in_the_top_three_on_the_next_visit(client, session, filled, count_queries):
    from decimal import Decimal

    from engpass.candidates import service as candidates

    owner, org = filled
    warm(client, org.slug)
    with tenancy.tenant_context(session, org.id):
        kept = candidates.propose(session, {"title": "Angebote dauern", "hours_per_week": Decimal(3)}, owner.id)
        session.commit()
    assert "Angebote dauern" in client.get(f"/o/{org.slug}/").text
    with tenancy.tenant_context(session, org.id):
        duplicate = candidates.propose(session, {"title": "Reklamationen"}, owner.id)
        session.commit()
    page = client.get(f"/o/{org.slug}/").text
    assert "Reklamationen" in page
    with tenancy.tenant_context(session, org.id):
        candidates.merge(session, duplicate, kept, owner.id)
        session.commit()
    assert "Reklamationen" not in client.get(f"/o/{org.slug}/").text
