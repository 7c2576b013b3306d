"""GET /api/v1/radar: the warning signs the workers found, in the request's language, with every threshold."""

from datetime import date, timedelta

from engpass import task_names
from engpass.radar import rules
from tests.support.api import bearer, in_org, make_token
from tests.support.cycles import scaled_quoting_cycle


def _scaled_long_ago(session, owner):
    cycle = scaled_quoting_cycle(session, owner)
    cycle.decided_at = cycle.decided_at - timedelta(days=20)
    session.commit()
    return cycle


def test_the_radar_lists_each_finding_with_its_rule_and_next_step(client, celery, session, make_user, make_org):
    owner = make_user(name="Sabine Müller")
    org = make_org("API-Radar GmbH", owner=owner)
    cycle = in_org(session, org, lambda s: _scaled_long_ago(s, owner))
    token = make_token(session, org, owner)

    pending = client.get("/api/v1/radar", headers=bearer(token)).json
    assert pending["pending"] is True and pending["findings"] == []

    celery.tasks[task_names.RECOMPUTE_TRENDS].apply(kwargs={"org_id": org.id}, throw=True).get()
    body = client.get("/api/v1/radar", headers=bearer(token, **{"Accept-Language": "en"})).json
    assert body["pending"] is False and body["currency"] == "EUR"
    assert body["thresholds"]["rollout_due_days"] == rules.ROLLOUT_DUE_DAYS == 14
    by_rule = {f["rule"]: f for f in body["findings"]}
    assert set(by_rule) == {"no_rollout", "no_sponsor"}
    no_rollout = by_rule["no_rollout"]
    assert no_rollout["pattern"] == "isolated_pilot" and no_rollout["pattern_name"] == "Isolated pilot"
    assert no_rollout["cycle_id"] == cycle.id and no_rollout["cycle_title"] == "Angebote"
    assert no_rollout["figures"] == {"days": 20}
    assert no_rollout["text"] == "Decided 20 days ago, no rollout."
    assert "more than 14 days" in no_rollout["rule_text"]
    assert no_rollout["next_step"].startswith("Open the rollout")
    assert no_rollout["opened_on"] == date.today().isoformat()
    german = client.get("/api/v1/radar", headers=bearer(token)).json
    assert {f["pattern_name"] for f in german["findings"]} == {"Isolierter Pilot", "Einsamer Experte"}
