"""The sponsor, the decision and proven templates over HTTP: the forms, who may decide, the to-do list."""

from __future__ import annotations

import pytest
from flask_babel import refresh
from sqlalchemy import select

from engpass import tenancy
from engpass.cycles.models import Cycle, CycleTemplate, Stage
from engpass.organizations.models import Role
from tests.support.cycles import lead_scoring_cycle, scaled_quoting_cycle

DECISION = {
    "decision": "scale",
    "decision_reason": "Wirkt",
    "lessons_worked": "Die Vorlage.",
    "lessons_failed": "Der Export.",
    "lessons_differently": "Früher messen.",
}


def _text(response) -> str:
    return response.get_data(as_text=True).replace("\xa0", " ")


def _get(client, url):
    refresh()
    return client.get(url)


def _post(client, url, data):
    refresh()
    return client.post(url, data=data)


@pytest.fixture
def switch(client, login):
    """Sign in as another person: the login page keeps a signed-in session as it is."""

    def _switch(user):
        client.post("/logout")
        login(user)

    return _switch


@pytest.fixture
def company(session, make_user, make_org):
    """Sabine owns the company, Aylin and Kurt are admins, Jonas a member; Aylin backs a measured cycle."""
    owner, aylin, kurt, jonas = (make_user(name=n) for n in ("Sabine Müller", "Aylin Kaya", "Kurt Admin", "Jonas"))
    org = make_org(
        "Müller Metallbau GmbH", owner=owner, members={aylin: Role.admin, kurt: Role.admin, jonas: Role.member}
    )
    with tenancy.tenant_context(session, org.id):
        cycle = lead_scoring_cycle(session, owner)
        cycle.sponsor_id = aylin.id
        session.commit()
        cycle_id = cycle.id
    people = {"owner": owner, "sponsor": aylin, "admin": kurt, "member": jonas}
    return org, people, cycle_id


def _stage(session, org, cycle_id):
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        return session.get(Cycle, cycle_id).stage


@pytest.mark.parametrize(("who", "status"), [("owner", 302), ("sponsor", 302), ("admin", 403), ("member", 403)])
def test_only_the_sponsor_or_an_owner_records_the_decision(client, session, login, company, who, status):
    org, people, cycle_id = company
    login(people[who])
    url = f"/o/{org.slug}/cycles/{cycle_id}/decision"
    page = _text(_get(client, url))
    assert "Die Entscheidung hält Aylin Kaya als Sponsor fest oder ein Inhaber der Organisation." in page
    assert ("Entscheidung speichern" in page) == (status == 302)
    assert _post(client, url, DECISION).status_code == status
    assert (_stage(session, org, cycle_id) == Stage.decided) == (status == 302)


def test_the_cycle_page_names_the_sponsor_and_offers_the_decision_to_deciders(client, login, company):
    org, people, cycle_id = company
    login(people["admin"])
    page = _text(_get(client, f"/o/{org.slug}/cycles/{cycle_id}/"))
    assert "Sponsor: <strong>Aylin Kaya</strong>" in page
    assert f"/o/{org.slug}/cycles/{cycle_id}/decision" not in page
    assert "Die Entscheidung hält Aylin Kaya als Sponsor fest" in page


def test_lessons_are_required_and_shown_beside_the_decision(client, login, company):
    org, people, cycle_id = company
    login(people["sponsor"])
    url = f"/o/{org.slug}/cycles/{cycle_id}/decision"
    refused = _post(client, url, {**DECISION, "lessons_failed": " "})
    assert refused.status_code == 422
    assert "Bitte halten Sie in wenigen Zeilen fest, was nicht funktioniert hat." in _text(refused)
    assert _post(client, url, {**DECISION, "lessons_worked": "x" * 2001}).status_code == 422
    assert _post(client, url, DECISION).status_code == 302
    page = _text(_get(client, f"/o/{org.slug}/cycles/{cycle_id}/"))
    for shown in ("Was funktioniert hat", "Die Vorlage.", "Der Export.", "Früher messen."):
        assert shown in page


def test_entering_decided_by_the_stage_form_is_the_deciders_too(client, session, switch, company):
    org, people, cycle_id = company
    switch(people["owner"])
    assert _post(client, f"/o/{org.slug}/cycles/{cycle_id}/decision", DECISION).status_code == 302
    assert _post(client, f"/o/{org.slug}/cycles/{cycle_id}/stage", {"target": "result"}).status_code == 302
    switch(people["admin"])
    refused = _post(client, f"/o/{org.slug}/cycles/{cycle_id}/stage", {"target": "decided"})
    assert refused.status_code == 403 and _stage(session, org, cycle_id) == Stage.result
    switch(people["sponsor"])
    assert _post(client, f"/o/{org.slug}/cycles/{cycle_id}/stage", {"target": "decided"}).status_code == 302


def test_a_new_cycle_names_its_sponsor(client, session, login, company):
    org, people, _cycle_id = company
    login(people["member"])
    form = _text(_get(client, f"/o/{org.slug}/cycles/new"))
    # A member cannot back a cycle: the picker offers the owners and admins and waits for a choice.
    assert '<option selected value="">Sponsor wählen …</option>' in form
    assert "Aylin Kaya" in form and ">Jonas<" not in form.split('id="sponsor_id"')[1].split("</select>")[0]
    data = {"title": "Lieferscheine fehlen", "category": "order_errors", "owner_id": people["member"].id}
    missing = _post(client, f"/o/{org.slug}/cycles/new", {**data, "confirm_focus": "y"})
    assert missing.status_code == 422
    assert "Bitte wählen Sie einen Sponsor: einen Inhaber oder Administrator, der am Ende entscheidet." in _text(
        missing
    )
    for stranger in (people["member"].id, 999999):
        refused = _post(client, f"/o/{org.slug}/cycles/new", {**data, "confirm_focus": "y", "sponsor_id": stranger})
        assert refused.status_code == 422
        assert "Bitte wählen Sie als Sponsor einen Inhaber oder Administrator dieser Organisation." in _text(refused)
    created = _post(
        client, f"/o/{org.slug}/cycles/new", {**data, "confirm_focus": "y", "sponsor_id": people["sponsor"].id}
    )
    assert created.status_code == 302
    with tenancy.tenant_context(session, org.id):
        cycle = session.scalars(select(Cycle).where(Cycle.title == "Lieferscheine fehlen")).one()
        assert cycle.sponsor_id == people["sponsor"].id


def test_an_owner_naming_a_bottleneck_backs_it_by_default(client, login, company):
    org, people, _cycle_id = company
    login(people["owner"])
    form = _text(_get(client, f"/o/{org.slug}/cycles/new"))
    assert f'<option selected value="{people["owner"].id}">Sabine Müller</option>' in form


def test_the_bottleneck_form_changes_the_sponsor(client, session, login, company):
    org, people, cycle_id = company
    login(people["member"])
    data = {"title": "Zu wenige Aufträge", "category": "leads", "owner_id": people["owner"].id}
    url = f"/o/{org.slug}/cycles/{cycle_id}/bottleneck"
    assert _post(client, url, {**data, "sponsor_id": people["admin"].id}).status_code == 302
    with tenancy.tenant_context(session, org.id):
        session.expire_all()
        assert session.get(Cycle, cycle_id).sponsor_id == people["admin"].id


def test_the_todo_list_shows_the_sponsor_their_decisions(client, switch, company):
    org, people, cycle_id = company
    for who, shown in (("sponsor", True), ("admin", False), ("owner", False)):
        switch(people[who])
        page = _text(_get(client, f"/o/{org.slug}/todo"))
        assert ("Als Sponsor: Entscheidungen, die auf Sie warten" in page) == shown, who
        assert (f"/o/{org.slug}/cycles/{cycle_id}/decision" in page) == shown, who
    switch(people["sponsor"])
    everywhere = _text(_get(client, "/todo"))
    assert "Als Sponsor: Entscheidungen, die auf Sie warten" in everywhere and "Zu wenige Aufträge" in everywhere


@pytest.fixture
def decided(session, make_user, make_org):
    owner, admin = make_user(name="Sabine Müller"), make_user(name="Aylin Kaya")
    org = make_org("Müller Metallbau GmbH", owner=owner, members={admin: Role.admin})
    other_owner = make_user(name="Fremd")
    other = make_org("Andere GmbH", owner=other_owner)
    with tenancy.tenant_context(session, org.id):
        cycle_id = scaled_quoting_cycle(session, owner, "Angebote dauern 9 Tage").id
        session.commit()
    with tenancy.tenant_context(session, other.id):
        theirs = scaled_quoting_cycle(session, other_owner).id
        session.commit()
    return org, owner, admin, cycle_id, theirs


def test_an_owner_makes_a_template_from_a_decided_cycle(client, session, switch, decided):
    org, owner, admin, cycle_id, theirs = decided
    base = f"/o/{org.slug}/cycles"
    switch(admin)
    assert "make-template" not in _text(_get(client, f"{base}/{cycle_id}/"))
    assert _post(client, f"{base}/{cycle_id}/template", {}).status_code == 403
    switch(owner)
    assert 'id="make-template"' in _text(_get(client, f"{base}/{cycle_id}/"))
    assert _post(client, f"{base}/{theirs}/template", {}).status_code == 404
    made = _post(client, f"{base}/{cycle_id}/template", {})
    assert made.status_code == 302 and made.location.endswith(f"{base}/templates#own")
    templates = _text(_get(client, f"{base}/templates"))
    assert "gemessen in Zyklus „Angebote dauern 9 Tage“: −57 % Stunden, −55,6 % Dauer" in templates
    assert "27.040 €" in templates and "14 → 6" in templates
    new = _text(_get(client, f"{base}/new?category=quoting"))
    assert "Bewährt: gemessen in Zyklus „Angebote dauern 9 Tage“: −57 % Stunden" in new
    with tenancy.tenant_context(session, org.id):
        assert session.scalars(select(CycleTemplate.source_cycle_id)).all() == [cycle_id]


def test_an_open_cycle_is_no_template(client, session, login, company):
    org, people, cycle_id = company
    login(people["owner"])
    refused = _post(client, f"/o/{org.slug}/cycles/{cycle_id}/template", {})
    assert refused.status_code == 302
    with tenancy.tenant_context(session, org.id):
        assert session.scalars(select(CycleTemplate)).all() == []
