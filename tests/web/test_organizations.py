"""Organization pages: home, settings, audit log, the switcher, roles and query counts."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from engpass import task_names, tenancy
from engpass.audit.models import AuditEvent
from engpass.organizations.models import Organization, Role
from engpass.organizations.service import unique_slug
from engpass.trends.models import TrendState

VALID = {
    "name": "Müller Metallbau GmbH",
    "locale": "de",
    "timezone": "Europe/Berlin",
    "currency": "EUR",
    "default_hourly_rate": "72.50",
    "working_weeks_per_year": "52",
}


@pytest.fixture
def owner_org(make_user, make_org, login):
    owner = make_user(name="Sabine Müller")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    login(owner)
    return owner, org


def test_settings_save_and_audit_what_changed(client, session, owner_org):
    owner, org = owner_org
    response = client.post(f"/o/{org.slug}/settings", data={**VALID, "currency": "CHF"})
    assert response.status_code == 302
    session.expire_all()
    saved = session.get(Organization, org.id)
    assert (saved.currency, saved.default_hourly_rate) == ("CHF", Decimal("72.50"))
    with tenancy.tenant_context(session, org.id):
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "organization.updated")).one()
    assert event.actor_id == owner.id
    assert event.details["changes"]["currency"] == ["EUR", "CHF"]
    log = client.get(f"/o/{org.slug}/audit/")
    assert log.status_code == 200
    assert "Einstellungen geändert" in log.text and "Sabine Müller" in log.text
    assert "Währung von EUR auf CHF geändert" in log.text


def test_a_new_hourly_rate_asks_for_the_whole_trend_again(client, session, owner_org, publisher):
    _, org = owner_org

    def state_and_requests():
        with tenancy.tenant_context(session, org.id):
            state = session.scalars(select(TrendState)).one_or_none()
        requests = [name for name, _, _ in publisher.published].count(task_names.RECOMPUTE_TRENDS)
        return state, requests

    client.post(f"/o/{org.slug}/settings", data=VALID)
    before, asked = state_and_requests()
    version = before.version if before else 0
    client.post(f"/o/{org.slug}/settings", data={**VALID, "name": "Müller Metallbau AG"})
    assert state_and_requests()[1] == asked
    assert client.post(f"/o/{org.slug}/settings", data={**VALID, "default_hourly_rate": "90"}).status_code == 302
    session.expire_all()
    state, requests = state_and_requests()
    assert state.version == version + 1
    assert state.dirty_since is None
    assert requests == asked + 1


def test_fewer_working_weeks_ask_for_the_whole_trend_again_and_are_audited(client, session, owner_org, publisher):
    owner, org = owner_org
    page = client.get(f"/o/{org.slug}/settings").text
    assert 'value="52"' in page and "viele Unternehmen rechnen mit etwa 46" in page
    assert client.post(f"/o/{org.slug}/settings", data={**VALID, "working_weeks_per_year": "46"}).status_code == 302
    session.expire_all()
    assert session.get(Organization, org.id).working_weeks_per_year == 46
    with tenancy.tenant_context(session, org.id):
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "organization.updated")).one()
        assert event.details["changes"]["working_weeks_per_year"] == [52, 46]
        assert session.scalars(select(TrendState.version)).one() == 1
    assert task_names.RECOMPUTE_TRENDS in [name for name, _, _ in publisher.published]
    log = client.get(f"/o/{org.slug}/audit/").text
    assert "Arbeitswochen pro Jahr" in log and "Sabine Müller" in log


@pytest.mark.parametrize("typed", ["0", "54", "-1", "", "zwei", "4,5", "46,2"])
def test_working_weeks_are_a_whole_number_from_1_to_53(client, session, owner_org, typed):
    _, org = owner_org
    response = client.post(f"/o/{org.slug}/settings", data={**VALID, "working_weeks_per_year": typed})
    assert response.status_code == 422
    assert 'class="field__error"' in response.text
    session.expire_all()
    assert session.get(Organization, org.id).working_weeks_per_year == 52


@pytest.mark.parametrize(
    "bad",
    [
        {"name": ""},
        {"name": "x" * 121},
        {"default_hourly_rate": "abc"},
        {"default_hourly_rate": "-5"},
        {"default_hourly_rate": "1e400"},
        {"timezone": "Mars/Olympus"},
        {"currency": "BTC"},
        {"locale": "fr"},
    ],
)
def test_settings_refuse_bad_input_with_a_message_and_keep_what_was_typed(client, session, owner_org, bad):
    _, org = owner_org
    response = client.post(f"/o/{org.slug}/settings", data={**VALID, **bad})
    assert response.status_code == 422
    assert 'class="field__error"' in response.text
    session.expire_all()
    assert session.get(Organization, org.id).default_hourly_rate == Decimal("65.00")


@pytest.mark.parametrize(
    ("locale", "typed", "rate"),
    [("de", "50,00", "50.00"), ("de", "1.234,5", "1234.50"), ("en", "50.00", "50.00"), ("en", "1,234.5", "1234.50")],
)
def test_the_hourly_rate_is_read_as_the_user_writes_it(
    client, session, make_user, make_org, login, locale, typed, rate
):
    # 50,00 typed in German once saved 5000.00 €/h and made every business case 100 times too big.
    owner = make_user(locale=locale)
    org = make_org(owner=owner)
    login(owner)
    data = {**VALID, "locale": locale, "default_hourly_rate": typed, "confirm_implausible": "y"}
    assert client.post(f"/o/{org.slug}/settings", data=data).status_code == 302
    session.expire_all()
    assert session.get(Organization, org.id).default_hourly_rate == Decimal(rate)


def test_an_ambiguous_hourly_rate_is_refused_naming_both_readings(client, session, owner_org):
    _, org = owner_org
    response = client.post(f"/o/{org.slug}/settings", data={**VALID, "default_hourly_rate": "1.234"})
    assert response.status_code == 422
    assert "„1.234“ ist nicht eindeutig: meinen Sie 1234 oder 1,234?" in response.text
    assert 'value="1.234"' in response.text and 'type="number"' not in response.text
    session.expire_all()
    assert session.get(Organization, org.id).default_hourly_rate == Decimal("65.00")


def test_settings_keep_unicode(client, session, owner_org):
    _, org = owner_org
    name = "Ünïcødé & Söhne 🚀 <script>"
    assert client.post(f"/o/{org.slug}/settings", data={**VALID, "name": name}).status_code == 302
    page = client.get(f"/o/{org.slug}/")
    assert "Ünïcødé &amp; Söhne 🚀 &lt;script&gt;" in page.text
    assert "<script>" not in page.text


@pytest.mark.parametrize("role", [Role.member, Role.viewer])
def test_members_and_viewers_cannot_open_settings_or_audit(client, make_user, make_org, login, role):
    user = make_user()
    org = make_org(owner=make_user(), members={user: role})
    login(user)
    assert client.get(f"/o/{org.slug}/").status_code == 200
    assert client.get(f"/o/{org.slug}/settings").status_code == 403
    assert client.post(f"/o/{org.slug}/settings", data=VALID).status_code == 403
    assert client.get(f"/o/{org.slug}/audit/").status_code == 403


def test_admin_can_change_settings(client, make_user, make_org, login):
    admin = make_user()
    org = make_org(owner=make_user(), members={admin: Role.admin})
    login(admin)
    assert client.post(f"/o/{org.slug}/settings", data=VALID).status_code == 302


def test_switcher_lists_only_my_organizations(client, make_user, make_org, login):
    user = make_user()
    mine = [make_org("Alpha GmbH", owner=user), make_org("Beta GmbH", owner=make_user(), members={user: Role.viewer})]
    make_org("Fremde AG")
    login(user)
    page = client.get(f"/o/{mine[0].slug}/").text
    assert "Alpha GmbH" in page and "Beta GmbH" in page
    assert "Fremde AG" not in page


def test_audit_log_filter_and_paging(client, session, owner_org):
    _, org = owner_org
    with tenancy.tenant_context(session, org.id):
        for i in range(60):
            session.add(AuditEvent(action="bulk.test", details={"i": i}))
        session.commit()
    first = client.get(f"/o/{org.slug}/audit/?action=bulk.test")
    assert first.text.count('data-action="bulk.test"') == 50
    second = client.get(f"/o/{org.slug}/audit/?action=bulk.test&page=2")
    assert second.text.count('data-action="bulk.test"') == 10
    assert client.get(f"/o/{org.slug}/audit/?page=-3").status_code == 200
    assert client.get(f"/o/{org.slug}/audit/?page=abc").status_code == 200


def test_organization_home_query_count_is_constant(client, make_user, make_org, owner_org, count_queries):
    owner, org = owner_org
    client.get(f"/o/{org.slug}/")  # the first visit records the organization as last used
    with count_queries() as few:
        assert client.get(f"/o/{org.slug}/").status_code == 200
    for i in range(5):
        make_org(f"Weitere {i} GmbH", owner=owner)
    with count_queries() as many:
        assert client.get(f"/o/{org.slug}/").status_code == 200
    # the user with the membership and organization, switcher list; the dashboard of an organization without
    # cycles is not cached (nothing to key it on): trend state, snapshots, open cycles, the radar's findings;
    # the backlog's top three
    assert few.count == many.count == 7, "\n".join(s[:90] for s in few.statements)


def test_slugs_are_unique_readable_and_transliterated(session, make_org):
    first = make_org("Müller & Söhne GmbH")
    second = make_org("Müller & Söhne GmbH")
    assert first.slug == "mueller-soehne-gmbh"
    assert second.slug == "mueller-soehne-gmbh-2"
    assert unique_slug(session, "!!!") == "firma"
    assert unique_slug(session, "Admin") == "admin-org"
