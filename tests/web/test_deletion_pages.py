"""The pages that delete: an organization (its owners, typed name and password) and one's own account."""

import pytest
from sqlalchemy import func, select

from engpass import tenancy
from engpass.accounts.models import User
from engpass.audit.models import AuditEvent
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel
from engpass.cycles.models import Cycle, Measurement, Stage, StageChange
from engpass.notifications import sendlog
from engpass.notifications.models import NotificationPreferences, SendLog
from engpass.organizations.models import Membership, Organization, OrgKind, Role
from engpass.organizations.service import add_member
from engpass.privacy.models import DeletionRecord, Subject
from engpass.team import service as team
from engpass.team.models import Invitation
from tests.support.accounts import PASSWORD
from tests.support.app import build_app
from tests.support.privacy import cycle_in, rich_organization


def _org_exists(session, org_id):
    session.expire_all()
    return session.get(Organization, org_id) is not None


# --- deleting an organization ---------------------------------------------------------------------


@pytest.fixture
def doomed(session, make_user, login):
    rich = rich_organization(session, make_user, "Müller Metallbau GmbH")
    login(rich.owner)
    return rich


def test_the_owner_sees_what_will_be_deleted(client, doomed, count_queries):
    client.get(f"/o/{doomed.org.slug}/settings")
    with count_queries() as counter:
        page = client.get(f"/o/{doomed.org.slug}/settings/delete")
    assert page.status_code == 200
    assert "Müller Metallbau GmbH löschen?" in page.text
    assert "7 Zyklen" in page.text and "2 Mitgliedschaften" in page.text
    assert "1 Beratung verliert ihren Zugang" in page.text
    # The user with the organization and the membership, the figures, the navigation's organizations.
    assert counter.count == 3, counter.statements
    settings = client.get(f"/o/{doomed.org.slug}/settings").text
    assert f'href="/o/{doomed.org.slug}/settings/delete"' in settings


def test_a_wrong_name_is_refused_next_to_the_field_and_nothing_is_deleted(client, session, doomed):
    for typed in ("Müller Metallbau", "müller metallbau gmbh", "anything"):
        response = client.post(
            f"/o/{doomed.org.slug}/settings/delete", data={"confirmation": typed, "current_password": PASSWORD}
        )
        assert response.status_code == 422
        assert 'id="confirmation-error"' in response.text
        assert "Bitte genau so eingeben: Müller Metallbau GmbH" in response.text
        assert _org_exists(session, doomed.org.id)
    empty = client.post(f"/o/{doomed.org.slug}/settings/delete", data={"current_password": PASSWORD})
    assert empty.status_code == 422 and 'id="confirmation-error"' in empty.text


def test_a_wrong_password_is_refused_and_nothing_is_deleted(client, session, doomed):
    response = client.post(
        f"/o/{doomed.org.slug}/settings/delete",
        data={"confirmation": "Müller Metallbau GmbH", "current_password": "not the password"},
    )
    assert response.status_code == 422
    assert 'id="current_password-error"' in response.text and "Das Passwort ist nicht korrekt." in response.text
    # What was typed stays; the password never comes back.
    assert 'value="Müller Metallbau GmbH"' in response.text and "not the password" not in response.text
    assert _org_exists(session, doomed.org.id)


@pytest.mark.parametrize(
    "typed", ["Müller Metallbau GmbH", "  Müller Metallbau GmbH ", "slug", "Mu\u0308ller Metallbau GmbH"]
)
def test_the_name_or_the_slug_deletes_it_and_the_slug_answers_404(client, session, doomed, typed):
    slug, org_id = doomed.org.slug, doomed.org.id
    typed = slug if typed == "slug" else typed
    response = client.post(f"/o/{slug}/settings/delete", data={"confirmation": typed, "current_password": PASSWORD})
    assert response.status_code == 302
    landing = client.get(response.location, follow_redirects=True)
    assert "Müller Metallbau GmbH wurde mit allen Daten gelöscht." in landing.text
    assert not _org_exists(session, org_id)
    assert client.get(f"/o/{slug}/").status_code == 404
    assert client.get(f"/o/{slug}/settings/delete").status_code == 404
    record = session.scalars(select(DeletionRecord).where(DeletionRecord.subject_id == org_id)).one()
    assert (record.subject, record.requested_by_id) == (Subject.organization, doomed.owner.id)


def test_after_deleting_their_only_organization_the_owner_can_still_log_in(client, doomed):
    client.post(
        f"/o/{doomed.org.slug}/settings/delete",
        data={"confirmation": doomed.org.name, "current_password": PASSWORD},
    )
    assert client.get("/", follow_redirects=False).location == "/welcome"
    client.post("/logout")
    assert client.post("/login", data={"email": doomed.owner.email, "password": PASSWORD}).location == "/welcome"


def test_an_owner_with_another_organization_lands_there(client, make_org, doomed):
    other = make_org("Zweitfirma", owner=doomed.owner)
    response = client.post(
        f"/o/{doomed.org.slug}/settings/delete",
        data={"confirmation": doomed.org.name, "current_password": PASSWORD},
    )
    assert client.get(response.location).location == f"/o/{other.slug}/"


@pytest.mark.parametrize("role", [Role.admin, Role.member, Role.viewer])
def test_only_owners_may_delete(client, session, make_user, login, doomed, role):
    person = make_user()
    add_member(session, doomed.org, person, role)
    session.commit()
    client.post("/logout")
    login(person)
    assert client.get(f"/o/{doomed.org.slug}/settings/delete").status_code == 403
    data = {"confirmation": doomed.org.name, "current_password": PASSWORD}
    assert client.post(f"/o/{doomed.org.slug}/settings/delete", data=data).status_code == 403
    assert _org_exists(session, doomed.org.id)
    assert f"/o/{doomed.org.slug}/settings/delete" not in client.get(f"/o/{doomed.org.slug}/settings").text


def test_a_consultant_cannot_delete_the_client_and_another_owner_gets_404(client, session, make_user, make_org, login):
    owner = make_user()
    client_org = make_org("Kunde GmbH", owner=owner)
    consultant = make_user()
    firm = make_org("Beratung", owner=consultant, kind=OrgKind.consultancy)
    consulting.grant(session, client_org, firm, AccessLevel.edit, None)
    session.commit()
    login(consultant)
    data = {"confirmation": "Kunde GmbH", "current_password": PASSWORD}
    assert client.post(f"/o/{client_org.slug}/settings/delete", data=data).status_code == 403
    client.post("/logout")
    stranger = make_user()
    make_org("Fremd GmbH", owner=stranger)
    login(stranger)
    response = client.post(f"/o/{client_org.slug}/settings/delete", data=data)
    assert response.status_code == 404 and "Kunde" not in response.text
    assert _org_exists(session, client_org.id)


def test_a_deleted_consultancys_consultants_lose_the_client_at_once(client, session, make_user, make_org, login):
    consultant = make_user()
    firm = make_org("Beratung", owner=consultant, kind=OrgKind.consultancy)
    client_org = make_org("Kunde GmbH")
    consulting.grant(session, client_org, firm, AccessLevel.edit, None)
    session.commit()
    login(consultant)
    assert client.get(f"/o/{client_org.slug}/").status_code == 200
    client.post(f"/o/{firm.slug}/settings/delete", data={"confirmation": "Beratung", "current_password": PASSWORD})
    assert client.get(f"/o/{client_org.slug}/").status_code == 404
    assert _org_exists(session, client_org.id)


# --- deleting one's account -------------------------------------------------------------------------


@pytest.fixture
def team_world(session, make_user, make_org):
    """Anna is a member of a company whose owner is Olaf: she owns a cycle, recorded measurements, moved
    stages, caused audit events, accepted an invitation, sent one as an admin and has e-mail settings."""
    olaf, anna = make_user(name="Olaf Owner"), make_user(name="Anna Admin", email="anna@example.com")
    org = make_org("Firma GmbH", owner=olaf)
    with tenancy.tenant_context(session, org.id):
        olaf_membership = session.scalars(select(Membership).where(Membership.user_id == olaf.id)).one()
        invitation = team.invite(session, org, olaf_membership, "anna@example.com", Role.admin)
        team.accept(session, invitation, anna)
        session.flush()
        anna_membership = session.scalars(select(Membership).where(Membership.user_id == anna.id)).one()
        sent = team.invite(session, org, anna_membership, "neu@example.com", Role.member)
        cycle = cycle_in(session, anna, Stage.result, "Annas Zyklus")
        session.commit()
        ids = {"cycle": cycle.id, "accepted": invitation.id, "sent": sent.id}
    session.add(NotificationPreferences(user_id=anna.id, digest_hour=9))
    sendlog.claim(session, anna.id, "welcome", str(org.id))
    session.commit()
    return olaf, anna, org, ids


def test_the_account_page_links_the_export_and_the_deletion(client, make_user, make_org, login):
    user = make_user()
    make_org(owner=user)
    login(user)
    page = client.get("/account/settings").text
    assert 'action="/account/export"' in page and 'href="/account/delete"' in page


def test_a_sole_owner_is_told_which_organizations_and_what_to_do_and_nothing_is_deleted(
    client, session, make_user, make_org, login
):
    user = make_user()
    first, second = make_org("Alpha GmbH", owner=user), make_org("Beta GmbH", owner=user)
    shared = make_org("Gamma GmbH", owner=make_user(), members={user: Role.owner})
    login(user)
    page = client.get("/account/delete")
    assert page.status_code == 200
    notice = page.text.split('id="sole-owner"')[1].split("</div>")[0]
    assert "Sie sind der einzige Inhaber dieser Organisationen: Alpha GmbH, Beta GmbH." in notice
    assert "Gamma" not in notice
    assert f'href="/o/{first.slug}/team/#transfer"' in page.text
    assert f'href="/o/{second.slug}/settings/delete"' in page.text
    response = client.post("/account/delete", data={"confirmation": user.email, "current_password": PASSWORD})
    assert response.status_code == 409 and "Alpha GmbH, Beta GmbH" in response.text
    session.expire_all()
    assert session.get(User, user.id) is not None
    assert session.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == user.id)) == 3
    assert shared.id and client.get("/account/settings").status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"confirmation": "jemand@example.com", "current_password": PASSWORD}, "confirmation"),
        ({"confirmation": "", "current_password": PASSWORD}, "confirmation"),
        ({"confirmation": "anna@example.com", "current_password": "falsch falsch"}, "current_password"),
    ],
)
def test_a_wrong_address_or_password_is_refused(client, session, login, team_world, data, field):
    _, anna, _, _ = team_world
    login(anna)
    response = client.post("/account/delete", data=data)
    assert response.status_code == 422 and f'id="{field}-error"' in response.text
    session.expire_all()
    assert session.get(User, anna.id) is not None


def test_deleting_the_account_keeps_the_organizations_history_without_the_person(client, session, login, team_world):
    olaf, anna, org, ids = team_world
    anna_id = anna.id
    login(anna)
    response = client.post("/account/delete", data={"confirmation": "Anna@Example.com ", "current_password": PASSWORD})
    assert response.status_code == 302 and response.location == "/login"
    assert "Ihr Konto wurde gelöscht." in client.get("/login").text
    # Logged out: the account pages ask for a login again.
    assert client.get("/account/settings").location.startswith("/login")
    session.expire_all()
    assert session.get(User, anna_id) is None
    assert session.scalar(select(func.count()).select_from(Membership).where(Membership.user_id == anna_id)) == 0
    assert session.get(NotificationPreferences, anna_id) is None
    assert session.scalar(select(func.count()).select_from(SendLog).where(SendLog.user_id == anna_id)) == 0
    with tenancy.tenant_context(session, org.id):
        cycle = session.get(Cycle, ids["cycle"])
        assert cycle is not None and (cycle.owner_id, cycle.created_by_id) == (None, None)
        measurements = list(session.scalars(select(Measurement).where(Measurement.cycle_id == cycle.id)))
        assert measurements and all(m.created_by_id is None for m in measurements)
        changes = list(session.scalars(select(StageChange).where(StageChange.cycle_id == cycle.id)))
        assert changes and all(c.actor_id is None for c in changes)
        events = list(session.scalars(select(AuditEvent)))
        assert not any(e.actor_id == anna_id for e in events)
        assert sum(e.actor_id is None for e in events) >= 6
        # The address is gone from the organization's records; the rest of the history stays.
        assert not any("anna@example.com" in str(e.details) for e in events)
        assert {"member.invited", "invitation.accepted", "cycle.created"} <= {e.action for e in events}
        assert session.get(Invitation, ids["accepted"]) is None
        assert session.get(Invitation, ids["sent"]).invited_by_id is None
    record = session.scalars(select(DeletionRecord).where(DeletionRecord.subject == Subject.account)).one()
    assert record.subject_id == anna_id and record.requested_by_id is None
    assert record.rows["memberships"] == 1 and record.rows["send_log"] == 1
    # Olaf's organization reads on, showing a deleted user where Anna was.
    client.post("/logout")
    login(olaf)
    assert "gelöschter Benutzer" in client.get(f"/o/{org.slug}/audit/").text
    assert client.get(f"/o/{org.slug}/cycles/{ids['cycle']}/").status_code == 200


def test_the_address_can_sign_up_again(client, login, team_world):
    _, anna, _, _ = team_world
    login(anna)
    client.post("/account/delete", data={"confirmation": anna.email, "current_password": PASSWORD})
    response = client.post(
        "/signup", data={"name": "Anna", "email": anna.email, "company": "Anna GmbH", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_one_of_two_owners_may_go(client, session, make_user, make_org, login):
    first, second = make_user(), make_user()
    org = make_org("Zwei Inhaber GmbH", owner=first, members={second: Role.owner})
    login(second)
    assert (
        client.post("/account/delete", data={"confirmation": second.email, "current_password": PASSWORD}).status_code
        == 302
    )
    session.expire_all()
    owners = session.scalars(select(Membership.user_id).where(Membership.organization_id == org.id)).all()
    assert owners == [first.id]
    # Now the last owner: refused.
    login(first)
    assert (
        client.post("/account/delete", data={"confirmation": first.email, "current_password": PASSWORD}).status_code
        == 409
    )


def test_the_deletion_pages_need_a_login(client):
    for method, url in (("GET", "/account/delete"), ("POST", "/account/delete"), ("POST", "/account/export")):
        response = client.open(url, method=method)
        assert response.status_code == 302 and response.location.startswith("/login")


def test_the_password_cannot_be_guessed_on_the_delete_pages(settings, connection, make_user, make_org):
    """Both pages take a password: they share the login's limit (10 a minute), each on its own."""
    settings.rate_limits_enabled = True
    client = build_app(settings, connection).test_client()
    owner = make_user()
    org = make_org("Rate GmbH", owner=owner)
    client.post("/login", data={"email": owner.email, "password": PASSWORD})
    for url, typed in ((f"/o/{org.slug}/settings/delete", "Rate GmbH"), ("/account/delete", owner.email)):
        statuses = [
            client.post(url, data={"confirmation": typed, "current_password": f"guess {i}"}).status_code
            for i in range(11)
        ]
        assert statuses == [422] * 10 + [429], url
