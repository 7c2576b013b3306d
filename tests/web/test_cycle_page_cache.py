"""A cycle's page served whole from Redis: without a query while nothing on it changed, and never after a
change to any row the organization owns, to its members or to the people the page names — whichever way
the change was written (a service, a plain change of an object, a bulk statement)."""

from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from sqlalchemy import select, update

from engpass import tenancy
from engpass.accounts.models import User
from engpass.cycles import indirect_service
from engpass.cycles import service as cycles
from engpass.cycles.models import STAGE_ORDER, Cycle, ProcessStep, Stage
from engpass.demo.cycles import SHOP, build_chain
from engpass.organizations.models import Membership, Organization, Role
from engpass.page_cache import page_cache
from engpass.trends import service as trends
from tests.support.accounts import PASSWORD


@pytest.fixture
def cached(redis_url, app):
    """The page cache on the test Redis, under a prefix of this test's own."""
    page_cache.configure(redis_url, prefix=f"engpass-test:{uuid4().hex}:")
    yield page_cache
    page_cache.configure(None)


@pytest.fixture
def shop(session, make_user, make_org, login, cached):
    owner = make_user(name="Olga Owner")
    sponsor = make_user(name="Sam Sponsor")
    org = make_org("Zyklus Cache GmbH", owner=owner)
    with tenancy.tenant_context(session, org.id):
        session.add(Membership(user_id=sponsor.id, organization_id=org.id, role=Role.admin))
        session.flush()
        chain = build_chain(session, SHOP, date.today() - timedelta(days=3), owner.id, seed=5, sponsor_id=sponsor.id)
        trends.recompute(session)
        session.commit()
        # The page of a cycle that takes measurements, and another cycle of its chain.
        measured = next(c for c in reversed(chain) if c.stage_index() >= STAGE_ORDER.index(Stage.prototype))
        ids = [next(c.id for c in chain if c is not measured), measured.id]
    login(owner)
    return owner, org, ids


def url(org, cycle_id):
    return f"/o/{org.slug}/cycles/{cycle_id}/"


def warm(client, org, cycle_id):
    """The first visit records the organization and the CSRF secret, the second stores the page."""
    client.get(f"/o/{org.slug}/")
    for _ in range(2):
        assert client.get(url(org, cycle_id)).status_code == 200


def test_a_repeated_visit_is_served_without_a_query(client, shop, count_queries):
    _, org, ids = shop
    warm(client, org, ids[-1])
    fresh = client.get(url(org, ids[-1]))
    with count_queries() as counter:
        again = client.get(url(org, ids[-1]))
    assert again.status_code == 200
    assert counter.count == 0
    assert again.text == fresh.text
    assert again.headers["Cache-Control"] == "private, no-store"
    assert again.headers["Content-Security-Policy"].startswith("default-src 'self'")


def _add_measurement(session, org, owner, ids):
    cycle = session.get(Cycle, ids[-1])
    cycles.add_measurement(session, cycle, {"measured_on": date.today(), "kpi_value": Decimal("4321")}, owner.id)
    return "4.321"


def _add_step(session, org, owner, ids):
    session.add(ProcessStep(cycle_id=ids[-1], position=99, name="Zebraschritt", role="", minutes=7))
    return "Zebraschritt"


def _add_indirect_cost(session, org, owner, ids):
    data = {
        "label": "Zebrakosten",
        "kind": "other",
        "quantity": None,
        "unit_value": Decimal(10),
        "people_affected": None,
        "period": "week",
        "source": "estimated",
        "source_note": "",
    }
    indirect_service.add_item(session, session.get(Cycle, ids[-1]), data, owner.id)
    return "Zebrakosten"


def _retitle_another_cycle(session, org, owner, ids):
    # A plain change of the object, without the service's bookkeeping: the page shows the chain's titles.
    session.get(Cycle, ids[-2]).title = "Zebra-Nachbar"
    return "Zebra-Nachbar"


def _retitle_in_bulk(session, org, owner, ids):
    session.execute(update(Cycle).where(Cycle.id == ids[-1]).values(title="Zebra in Masse"))
    return "Zebra in Masse"


def _rename_the_sponsor(session, org, owner, ids):
    # Someone else than the reader: their own name is under their own token.
    sponsor_id = session.get(Cycle, ids[-1]).sponsor_id
    session.get(User, sponsor_id).name = "Zebra Umbenannt"
    return "Zebra Umbenannt"


def _rename_the_organization(session, org, owner, ids):
    session.get(Organization, org.id).name = "Zebra Holding"
    return "Zebra Holding"


CHANGES = {
    "a measurement through the service": _add_measurement,
    "a process step as a new object": _add_step,
    "an indirect cost through the service": _add_indirect_cost,
    "another cycle of the chain retitled": _retitle_another_cycle,
    "the cycle retitled by a bulk statement": _retitle_in_bulk,
    "the sponsor renamed": _rename_the_sponsor,
    "the organization renamed": _rename_the_organization,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_shows_on_the_next_visit(client, session, shop, change):
    owner, org, ids = shop
    warm(client, org, ids[-1])
    before = client.get(url(org, ids[-1])).text
    with tenancy.tenant_context(session, org.id):
        shown = change(session, org, owner, ids)
        session.commit()
    assert shown not in before
    page = client.get(url(org, ids[-1]))
    assert page.status_code == 200
    assert shown in page.text


def test_a_name_changed_outside_any_organization_shows_on_the_next_visit(client, session, shop):
    """A person renames themselves on their profile, outside any organization: every organization they
    belong to shows the new name."""
    _, org, ids = shop
    warm(client, org, ids[-1])
    with tenancy.tenant_context(session, org.id):
        sponsor_id = session.get(Cycle, ids[-1]).sponsor_id
    session.get(User, sponsor_id).name = "Zebra Selbst"
    session.commit()
    assert "Zebra Selbst" in client.get(url(org, ids[-1])).text


def test_a_new_member_elsewhere_in_the_organization_renders_the_page_again(
    client, session, shop, make_user, count_queries
):
    _, org, ids = shop
    warm(client, org, ids[-1])
    with tenancy.tenant_context(session, org.id):
        session.add(Membership(user_id=make_user().id, organization_id=org.id, role=Role.admin))
        session.commit()
    with count_queries() as counter:
        assert client.get(url(org, ids[-1])).status_code == 200
    assert counter.count > 0


def test_a_viewer_never_gets_the_owners_page(app, client, session, shop, make_user):
    owner, org, ids = shop
    warm(client, org, ids[-1])
    delete = f"/o/{org.slug}/cycles/{ids[-1]}/delete"
    assert delete in client.get(url(org, ids[-1])).text
    viewer = make_user(name="Vera Viewer")
    with tenancy.tenant_context(session, org.id):
        session.add(Membership(user_id=viewer.id, organization_id=org.id, role=Role.viewer))
        session.commit()
    other_browser = app.test_client()
    assert other_browser.post("/login", data={"email": viewer.email, "password": PASSWORD}).status_code == 302
    warm(other_browser, org, ids[-1])
    page = other_browser.get(url(org, ids[-1]))
    assert page.status_code == 200
    assert delete not in page.text


def test_another_tenants_cycle_stays_404(client, session, shop, make_user, make_org):
    _, org, ids = shop
    warm(client, org, ids[-1])
    stranger = make_user()
    other = make_org("Fremd GmbH", owner=stranger)
    assert client.get(url(other, ids[-1])).status_code == 404
    with tenancy.tenant_context(session, other.id):
        assert session.scalars(select(Cycle.id).where(Cycle.id == ids[-1])).first() is None
