"""The cycles over the API: the same rules, audit events and recompute as the cycle pages; nothing half-saved."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import quote

import pytest
from sqlalchemy import event, func, select

from engpass import task_names, tenancy
from engpass.audit.models import AuditEvent
from engpass.cycles import service
from engpass.cycles.models import Category, Cycle, Measurement, Stage, StageChange
from engpass.cycles.rules import problems_to_enter
from engpass.organizations.models import Role
from engpass.trends.service import recompute
from tests.support.api import BASELINE, NEW_CYCLE, bearer, in_org, make_token
from tests.support.cycles import scaled_quoting_cycle


@pytest.fixture
def world(session, make_user, make_org):
    """An organization with its owner's token, and helpers to call the API and read the database."""

    class World:
        owner = make_user(name="Sabine Keller")
        member = make_user(name="Max Mitglied")
        org = make_org("Keller Metall GmbH", owner=owner, members={member: Role.member})
        token = make_token(session, org, owner)

        def call(self, client, method, url, **kwargs):
            headers = bearer(self.token, **kwargs.pop("headers", {}))
            return client.open(f"/api/v1{url}", method=method, headers=headers, **kwargs)

        def count(self, model, *where):
            with tenancy.tenant_context(session, self.org.id):
                return session.scalar(select(func.count()).select_from(model).where(*where))

        def cycle(self, cycle_id):
            session.expunge_all()
            with tenancy.tenant_context(session, self.org.id):
                return session.get(Cycle, cycle_id)

        def events(self, action):
            with tenancy.tenant_context(session, self.org.id):
                return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()

    return World()


def _errors(response, status=422):
    assert response.status_code == status, response.text
    assert response.mimetype == "application/problem+json"
    return {error["field"]: error for error in response.json["errors"]}


# --- creating ------------------------------------------------------------------------------------


def test_creating_a_cycle_answers_201_with_its_id_audit_and_recompute(client, world, publisher):
    response = world.call(client, "POST", "/cycles", json={**NEW_CYCLE, "why": "Größter Hebel"})
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"] == f"/api/v1/cycles/{body['id']}"
    assert body["stage"] == "bottleneck" and body["category"] == "quoting" and body["why"] == "Größter Hebel"
    assert body["owner_id"] == world.owner.id and body["owner_name"] == "Sabine Keller"
    assert body["currency"] == "EUR" and body["steps"] == [] and body["measurement_count"] == 0
    assert body["web_url"] == f"http://engpass.test/o/{world.org.slug}/cycles/{body['id']}/"
    assert body["created_at"].endswith("+00:00")
    (event,) = world.events("cycle.created")
    assert event.object_id == body["id"] and event.actor_id == world.owner.id
    assert task_names.RECOMPUTE_TRENDS in [name for name, _kwargs, _id in publisher.published]
    assert world.call(client, "GET", f"/cycles/{body['id']}").json == body


def test_invalid_cycles_are_422_per_field_and_nothing_is_saved(client, world):
    errors = _errors(world.call(client, "POST", "/cycles", json={"why": 3, "owner": 1}))
    assert set(errors) == {"title", "category", "why", "owner"}
    assert errors["title"]["pointer"] == "#/title" and errors["title"]["in"] == "body"
    errors = _errors(world.call(client, "POST", "/cycles", json={"title": "  ", "category": "sales"}))
    assert set(errors) == {"title", "category"}
    assert "leads, quoting" in errors["category"]["message"]
    errors = _errors(world.call(client, "POST", "/cycles", json={**NEW_CYCLE, "title": "x" * 201}))
    assert set(errors) == {"title"}
    errors = _errors(world.call(client, "POST", "/cycles", json={**NEW_CYCLE, "title": "a\x00b"}))
    assert set(errors) == {"title"}
    errors = _errors(world.call(client, "POST", "/cycles", json=[NEW_CYCLE]))
    assert errors[""]["pointer"] == "#"
    assert world.count(Cycle) == 0


def test_the_owner_must_be_a_member(client, world, make_user):
    stranger = make_user()
    # A well-formed request the organization's state refuses: 409, like the method's rules.
    errors = _errors(world.call(client, "POST", "/cycles", json={**NEW_CYCLE, "owner_id": stranger.id}), 409)
    assert errors["owner_id"]["message"] == "Bitte wählen Sie ein Mitglied dieser Organisation."
    created = world.call(client, "POST", "/cycles", json={**NEW_CYCLE, "owner_id": world.member.id})
    assert created.json["owner_id"] == world.member.id


def test_one_bottleneck_at_a_time_unless_confirmed(client, world):
    first = world.call(client, "POST", "/cycles", json=NEW_CYCLE).json
    refused = world.call(client, "POST", "/cycles", json={**NEW_CYCLE, "title": "Zweiter"})
    errors = _errors(refused, 409)
    assert refused.json["type"] == "/api/v1/docs#problem-rule-violation"
    assert f"({first['id']})" in errors["confirm_second_open"]["message"]
    assert world.count(Cycle) == 1
    second = world.call(client, "POST", "/cycles", json={**NEW_CYCLE, "title": "Zweiter", "confirm_second_open": True})
    assert second.status_code == 201 and second.json["focus_warning"] is True


def test_the_next_cycle_follows_a_decided_one(client, session, world):
    decided = in_org(session, world.org, lambda s: scaled_quoting_cycle(s, world.owner))
    open_one = world.call(client, "POST", "/cycles", json=NEW_CYCLE).json
    refused = world.call(
        client, "POST", "/cycles", json={**NEW_CYCLE, "previous_cycle_id": open_one["id"], "confirm_second_open": True}
    )
    assert _errors(refused, 409)["previous_cycle_id"]["message"] == (
        "Entscheiden Sie diesen Zyklus, bevor Sie den nächsten Engpass wählen."
    )
    missing = world.call(client, "POST", "/cycles", json={**NEW_CYCLE, "previous_cycle_id": 999_999})
    assert set(_errors(missing, 409)) == {"previous_cycle_id"}
    following = world.call(
        client, "POST", "/cycles", json={**NEW_CYCLE, "previous_cycle_id": decided.id, "confirm_second_open": True}
    )
    assert following.status_code == 201 and following.json["previous_cycle_id"] == decided.id


# --- reading -------------------------------------------------------------------------------------


def test_a_cycle_reads_like_its_page(client, session, world):
    cycle = in_org(session, world.org, lambda s: scaled_quoting_cycle(s, world.owner))
    in_org(
        session,
        world.org,
        lambda s: service.save_baseline(
            s, s.get(Cycle, cycle.id), {}, [service.StepInput("Anfrage prüfen", "Vertrieb", 30)], world.owner.id
        ),
    )
    body = world.call(client, "GET", f"/cycles/{cycle.id}").json
    assert body["stage"] == "decided" and body["decision"] == "scale" and body["decision_reason"] == "Wirkt"
    assert body["hours_per_week"] == "14.00" and body["kpi_baseline"] == "9.0000" and body["effort_days"] == "6.00"
    assert body["prototype_start"] == (date.today() - timedelta(days=20)).isoformat()
    assert body["steps"] == [{"position": 1, "name": "Anfrage prüfen", "role": "Vertrieb", "minutes": 30}]
    assert body["measurement_count"] == 1 and body["decided_at"] is not None


def test_the_business_case_in_the_organizations_currency(client, session, world):
    cycle = in_org(session, world.org, lambda s: scaled_quoting_cycle(s, world.owner))
    body = world.call(client, "GET", f"/cycles/{cycle.id}/business-case").json
    # docs/business-case.md, Sabine's example.
    assert body == {
        "cycle_id": cycle.id,
        "currency": "EUR",
        "hourly_rate": "65.00",
        "measured": True,
        "hours_saved_per_week": "8.00",
        "cost_saved_per_week": "0.00",
        "running_cost_per_year": "0.00",
        "savings_per_year": "27040.00",
        "effort_cost": "3120.00",
        "payback_weeks": "6.0",
        "kpi_current": "4.0000",
        "kpi_change_percent": "-55.6",
        "kpi_improved": True,
        "target_reached_percent": "100.0",
        "working_weeks_per_year": 52,
        "status_quo_cost": {
            "per_year": "47320.00",
            "hours": "47320.00",
            "direct_cost": None,
            "indirect_cost": None,
            "guessed_cost": "0.00",
            "guessed_share": "0.0",
            "guessed_item_ids": [],
        },
        # No value per unit and no forecast stated: nothing to add, nothing to compare.
        "additional_contribution_per_year": None,
        "forecast": {
            "stated": False,
            **{
                name: {"forecast": None, "actual": actual, "deviation": None}
                for name, actual in (
                    ("hours_per_week", "6.00"),
                    ("kpi", "4.0000"),
                    ("savings_per_year", "27040.00"),
                    ("contribution_per_year", None),
                )
            },
            "achieved_share_percent": None,
        },
        # Scaled, but its rollout is not opened yet (tests/api/test_api_rollouts.py).
        "at_scale": None,
    }


def _make_cycles(session, world, count):
    def build(s):
        for number in range(count):
            service.create_cycle(
                s,
                title=f"Engpass {number}",
                category=Category.quoting if number % 2 else Category.leads,
                why="",
                owner_id=world.member.id if number % 3 == 0 else world.owner.id,
                actor_id=world.owner.id,
                confirm_second_open=True,
            )

    in_org(session, world.org, build)


def test_lists_come_in_pages_with_a_cursor(client, session, world):
    _make_cycles(session, world, 7)
    seen, url, pages = [], "/cycles?limit=3&category=quoting", 0
    while url:
        body = world.call(client, "GET", url).json
        assert body["limit"] == 3 and len(body["items"]) <= 3
        seen += [item["title"] for item in body["items"]]
        url = body["next"] and body["next"].split("/api/v1", 1)[1]
        if url:
            assert "category=quoting" in url and body["next_cursor"] in url
        pages += 1
    assert seen == ["Engpass 1", "Engpass 3", "Engpass 5"] and pages == 1
    body = world.call(client, "GET", "/cycles?limit=3").json
    assert [i["title"] for i in body["items"]] == ["Engpass 0", "Engpass 1", "Engpass 2"]
    rest = world.call(client, "GET", f"/cycles?limit=3&cursor={body['next_cursor']}").json
    assert [i["title"] for i in rest["items"]] == ["Engpass 3", "Engpass 4", "Engpass 5"]
    assert world.call(client, "GET", "/cycles").json["limit"] == 50


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=201",
        "limit=x",
        "cursor=abc",
        "cursor=WzEsMl0",
        "stage=done",
        "owner_id=2147483648",
        "updated_since=yesterday",
        "updated_since=0001-01-01T00:00:00%2B05:00",
    ],
)
def test_bad_list_arguments_are_422_on_the_parameter(client, world, query):
    response = world.call(client, "GET", f"/cycles?{query}")
    name = query.split("=")[0]
    assert _errors(response)[name]["in"] == "query"


def test_lists_filter_like_the_table(client, session, world):
    _make_cycles(session, world, 6)

    def titles(query):
        return [i["title"] for i in world.call(client, "GET", f"/cycles?{query}").json["items"]]

    assert titles(f"owner_id={world.member.id}") == ["Engpass 0", "Engpass 3"]
    assert titles("stage=bottleneck&category=leads") == ["Engpass 0", "Engpass 2", "Engpass 4"]
    assert titles("status=decided") == [] and len(titles("status=open")) == 6
    assert len(titles("updated_since=2000-01-01T00:00:00Z")) == 6 and titles("updated_since=2999-01-01") == []
    # The same moment in another zone: an hour ago in UTC+05:00 is still an hour ago.
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).astimezone(timezone(timedelta(hours=5)))
    assert len(titles("updated_since=" + quote(hour_ago.isoformat()))) == 6
    in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).astimezone(timezone(timedelta(hours=-5)))
    assert titles("updated_since=" + quote(in_an_hour.isoformat())) == []


def test_the_list_costs_the_same_queries_for_few_and_many(client, session, world, count_queries):
    _make_cycles(session, world, 2)
    world.call(client, "GET", "/cycles")  # the token's last use is written once a minute
    with count_queries() as few:
        assert len(world.call(client, "GET", "/cycles").json["items"]) == 2
    _make_cycles(session, world, 12)
    with count_queries() as many:
        assert len(world.call(client, "GET", "/cycles").json["items"]) == 14
    assert few.count == many.count <= 6, many.statements


def test_a_cycles_documents_cost_the_same_for_few_and_many_measurements(client, session, world, count_queries):
    """The documents' figures need only the latest measurement: 300 older ones change the count, not the
    queries, the figures or the rows read."""
    with tenancy.tenant_context(session, world.org.id):
        cycle_id = scaled_quoting_cycle(session, world.owner).id
        session.commit()

    def read():
        world.call(client, "GET", "/cycles")  # the token's last use is written once a minute
        loaded = []

        def remember(measurement, _context):
            loaded.append(measurement.id)

        event.listen(Measurement, "load", remember)
        try:
            with count_queries() as counter:
                one = world.call(client, "GET", f"/cycles/{cycle_id}").json
                listed = world.call(client, "GET", "/cycles").json["items"]
                case = world.call(client, "GET", f"/cycles/{cycle_id}/business-case").json
        finally:
            event.remove(Measurement, "load", remember)
        assert len(loaded) <= 3, "one measurement per document"
        return counter, one, listed, case

    few_queries, few, _, few_case = read()
    with tenancy.tenant_context(session, world.org.id):
        for n in range(300):
            day = date.today() - timedelta(days=1 + n % 19)
            session.add(Measurement(cycle_id=cycle_id, measured_on=day, kpi_value=Decimal(8)))
        session.commit()
    many_queries, many, listed, many_case = read()
    assert few_queries.count == many_queries.count, many_queries.statements
    assert many["measurement_count"] == few["measurement_count"] + 300 == 301
    assert listed == [many]
    changing = {"measurement_count", "updated_at"}
    assert {k: v for k, v in many.items() if k not in changing} == {k: v for k, v in few.items() if k not in changing}
    assert many_case == few_case


# --- changing ------------------------------------------------------------------------------------


def test_saving_the_status_quo_moves_the_cycle_like_the_form(client, world):
    cycle_id = world.call(client, "POST", "/cycles", json=NEW_CYCLE).json["id"]
    steps = [{"name": "Anfrage prüfen", "role": "Vertrieb", "minutes": 30}, {"name": "Kalkulieren"}]
    body = world.call(client, "PATCH", f"/cycles/{cycle_id}", json={**BASELINE, "steps": steps}).json
    assert body["stage"] == "baseline" and body["hours_per_week"] == "14.00" and body["kpi_target"] == "4.0000"
    assert [s["name"] for s in body["steps"]] == ["Anfrage prüfen", "Kalkulieren"] and body["steps"][1]["minutes"] == 0
    assert {e.action for e in world.events("cycle.baseline_updated")} == {"cycle.baseline_updated"}
    assert len(world.events("cycle.process_updated")) == 1


def test_a_solution_before_the_status_quo_is_refused_with_the_rules_words(client, world):
    cycle_id = world.call(client, "POST", "/cycles", json=NEW_CYCLE).json["id"]
    # The status quo in the same request, but incomplete: the solution is refused and the status quo
    # is not saved either.
    patch = {"hours_per_week": 14, "solution_what": "Vorlage", "solution_type": "other"}
    response = world.call(client, "PATCH", f"/cycles/{cycle_id}", json=patch, headers={"Accept-Language": "en"})
    errors = response.json["errors"]
    assert response.status_code == 409
    cycle = world.cycle(cycle_id)
    expected = [str(p) for p in problems_to_enter(cycle, Stage.solution, 0)]
    assert [e["message"] for e in errors] == expected[1:]  # the hours were sent, the KPI was not
    german = world.call(client, "PATCH", f"/cycles/{cycle_id}", json=patch)
    assert german.status_code == 409 and "Legen Sie die Kennzahl fest" in german.json["detail"]
    assert cycle.stage == Stage.bottleneck and cycle.hours_per_week is None and cycle.solution_what is None
    assert world.events("cycle.baseline_updated") == [] and world.count(StageChange) == 1


def test_invalid_changes_are_422_and_nothing_is_saved(client, world):
    cycle_id = world.call(client, "POST", "/cycles", json=NEW_CYCLE).json["id"]
    patch = {
        "title": "Neu",
        "hours_per_week": -1,
        "kpi_baseline": "1e30",
        "kpi_direction": "sideways",
        "steps": [{"name": "ok"}, {"minutes": 100_001}],
        "prototype_start": "1989-12-31",
        "colour": "blue",
    }
    errors = _errors(world.call(client, "PATCH", f"/cycles/{cycle_id}", json=patch))
    assert set(errors) == {
        "hours_per_week",
        "kpi_baseline",
        "kpi_direction",
        "steps.1.name",
        "steps.1.minutes",
        "prototype_start",
        "colour",
    }
    assert errors["steps.1.minutes"]["pointer"] == "#/steps/1/minutes"
    assert world.cycle(cycle_id).title == NEW_CYCLE["title"]
    assert set(_errors(world.call(client, "PATCH", f"/cycles/{cycle_id}", json={}))) == {""}
    dates = {"prototype_start": "2026-03-10", "prototype_target": "2026-03-01"}
    errors = _errors(world.call(client, "PATCH", f"/cycles/{cycle_id}", json=dates), 409)
    assert errors["prototype_target"]["message"] == "Der Zieltermin kann nicht vor dem Start liegen."


def test_a_whole_cycle_through_the_api(client, world):
    cycle_id = world.call(client, "POST", "/cycles", json=NEW_CYCLE).json["id"]
    assert world.call(client, "PATCH", f"/cycles/{cycle_id}", json=BASELINE).status_code == 200
    solution = {"solution_what": "Vorlage", "solution_type": "other", "effort_days": 6, "one_off_cost": "99.995"}
    body = world.call(client, "PATCH", f"/cycles/{cycle_id}", json=solution).json
    assert body["stage"] == "solution" and body["one_off_cost"] == "100.00"
    start = date.today() - timedelta(days=20)
    body = world.call(client, "PATCH", f"/cycles/{cycle_id}", json={"prototype_start": start.isoformat()}).json
    assert body["stage"] == "prototype" and body["prototype_target"] == (start + timedelta(weeks=4)).isoformat()
    # Only the start again: the target stays.
    later = (start + timedelta(days=1)).isoformat()
    body = world.call(client, "PATCH", f"/cycles/{cycle_id}", json={"prototype_start": later}).json
    assert body["prototype_target"] == (start + timedelta(weeks=4)).isoformat()
    early = world.call(
        client, "POST", f"/cycles/{cycle_id}/measurements", json={"measured_on": start.isoformat(), "kpi_value": 4}
    )
    assert (
        _errors(early, 409)["measured_on"]["message"]
        == "Ein Ergebnis kann erst ab dem Start des Prototyps gemessen werden."
    )
    measured = {"measured_on": date.today().isoformat(), "kpi_value": 4, "hours_per_week": 6, "note": "gut"}
    response = world.call(client, "POST", f"/cycles/{cycle_id}/measurements", json=measured)
    assert response.status_code == 201
    assert response.json["kpi_value"] == "4.0000" and response.json["currency"] == "EUR"
    assert world.call(client, "GET", f"/cycles/{cycle_id}").json["stage"] == "result"
    decision = {
        "decision": "scale",
        "decision_reason": "Wirkt",
        "lessons_worked": "Vorlage",
        "lessons_failed": "Export",
        "lessons_differently": "Früher messen",
    }
    body = world.call(client, "PATCH", f"/cycles/{cycle_id}", json=decision).json
    assert body["stage"] == "decided" and body["decided_at"] is not None
    assert world.call(client, "GET", f"/cycles/{cycle_id}/business-case").json["savings_per_year"] == "27040.00"


def test_stage_changes_follow_the_rules_and_go_back_freely(client, world):
    cycle_id = world.call(client, "POST", "/cycles", json=NEW_CYCLE).json["id"]
    refused = world.call(
        client, "POST", f"/cycles/{cycle_id}/stage", json={"stage": "solution"}, headers={"Accept-Language": "en"}
    )
    assert set(_errors(refused, 409)) == {"stage"}
    messages = [e["message"] for e in refused.json["errors"]]
    assert messages == [str(p) for p in problems_to_enter(world.cycle(cycle_id), Stage.solution, 0)]
    assert world.cycle(cycle_id).stage == Stage.bottleneck
    assert (
        world.call(client, "POST", f"/cycles/{cycle_id}/stage", json={"stage": "baseline"}).json["stage"] == "baseline"
    )
    back = world.call(client, "POST", f"/cycles/{cycle_id}/stage", json={"stage": "bottleneck"})
    assert back.status_code == 200 and back.json["stage"] == "bottleneck" and back.json["baseline_at"] is None
    assert world.count(StageChange, StageChange.backwards.is_(True)) == 1
    assert set(_errors(world.call(client, "POST", f"/cycles/{cycle_id}/stage", json={"stage": "done"}))) == {"stage"}


def test_measurements_need_a_started_prototype_and_come_in_pages(client, session, world):
    cycle_id = world.call(client, "POST", "/cycles", json=NEW_CYCLE).json["id"]
    refused = world.call(
        client, "POST", f"/cycles/{cycle_id}/measurements", json={"measured_on": "2026-01-05", "kpi_value": 1}
    )
    assert (
        _errors(refused, 409)["measured_on"]["message"]
        == "Ergebnisse werden gemessen, sobald der Prototyp gestartet ist."
    )
    assert world.count(Measurement) == 0
    world.call(client, "DELETE", f"/cycles/{cycle_id}")
    decided = in_org(session, world.org, lambda s: scaled_quoting_cycle(s, world.owner, title="Zweiter"))
    for offset in (3, 1, 2):
        day = (date.today() - timedelta(days=offset)).isoformat()
        measured = world.call(
            client, "POST", f"/cycles/{decided.id}/measurements", json={"measured_on": day, "kpi_value": offset}
        )
        assert measured.status_code == 201
    first = world.call(client, "GET", f"/cycles/{decided.id}/measurements?limit=2").json
    rest = world.call(client, "GET", f"/cycles/{decided.id}/measurements?limit=2&cursor={first['next_cursor']}").json
    values = [m["kpi_value"] for m in first["items"] + rest["items"]]
    assert values == ["3.0000", "2.0000", "1.0000", "4.0000"] and rest["next_cursor"] is None
    assert set(_errors(world.call(client, "GET", f"/cycles/{decided.id}/measurements?cursor=WzFd"))) == {"cursor"}


def test_deleting_a_cycle(client, session, world):
    cycle_id = world.call(client, "POST", "/cycles", json=NEW_CYCLE).json["id"]
    member_token = make_token(session, world.org, world.member)
    assert client.delete(f"/api/v1/cycles/{cycle_id}", headers=bearer(member_token)).status_code == 403
    response = world.call(client, "DELETE", f"/cycles/{cycle_id}")
    assert response.status_code == 204 and response.data == b""
    assert world.call(client, "DELETE", f"/cycles/{cycle_id}").status_code == 404
    assert world.count(Cycle) == 0 and len(world.events("cycle.deleted")) == 1


# --- the overview --------------------------------------------------------------------------------


def test_the_dashboard_asks_for_figures_and_then_shows_them(client, session, world, publisher):
    empty = world.call(client, "GET", "/dashboard").json
    assert empty == {
        "currency": "EUR",
        "pending": False,
        "maturity": None,
        "latest_week": None,
        "open_cycles": [],
        "attention": [],
        "forecast_accuracy": None,
    }
    in_org(session, world.org, lambda s: scaled_quoting_cycle(s, world.owner))
    publisher.published.clear()
    assert world.call(client, "GET", "/dashboard").json["pending"] is True
    in_org(session, world.org, lambda s: recompute(s, full=True))
    body = world.call(client, "GET", "/dashboard", headers={"Accept-Language": "en"}).json
    assert body["pending"] is False and body["latest_week"]["savings_per_year"] == "27040.00"
    # Sabine's cycle has no forecast: no cycle to rest an accuracy on.
    assert body["forecast_accuracy"] == {"percent": None, "cycles": 0}
    maturity = body["maturity"]
    assert 1 <= maturity["level"] <= 5 and set(maturity["scores"]) == {
        "focus",
        "measurement",
        "speed",
        "proof",
        "rhythm",
    }
    assert all(reason["text"] for reason in maturity["reasons"] + maturity["missing"])
    history = world.call(client, "GET", "/maturity/history?weeks=2").json["weeks"]
    assert 1 <= len(history) <= 2 and history[-1]["week_start"] == body["latest_week"]["week_start"]
    assert set(_errors(world.call(client, "GET", "/maturity/history?weeks=521"))) == {"weeks"}


def test_money_is_in_the_organizations_currency(client, session, world):
    world.org.currency = "CHF"
    session.add(world.org)
    session.commit()
    cycle = in_org(session, world.org, lambda s: scaled_quoting_cycle(s, world.owner))
    assert world.call(client, "GET", f"/cycles/{cycle.id}/business-case").json["currency"] == "CHF"
    assert world.call(client, "GET", f"/cycles/{cycle.id}").json["currency"] == "CHF"
    assert Decimal(world.call(client, "GET", f"/cycles/{cycle.id}").json["hours_per_week"]) == 14
