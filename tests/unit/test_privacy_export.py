"""A person's own data export: everything about them, nothing of anyone else."""

import json

from sqlalchemy import select

from engpass import tenancy
from engpass.candidates import service as candidates
from engpass.cycles.models import Stage
from engpass.notifications import sendlog
from engpass.notifications.models import NotificationPreferences
from engpass.organizations.models import Membership, Role
from engpass.privacy.export import FORMAT, export_user_data
from engpass.team import service as team
from engpass.tokens import service as tokens
from tests.support.privacy import cycle_in


def _world(session, make_user, make_org):
    """Eva is an admin at Alpha (owner Otto) and a viewer at Beta; she left Gamma, where she had worked.
    At Alpha she owns a cycle with measurements, invited a colleague, accepted her own invitation."""
    otto = make_user(name="Otto Owner", email="otto@example.com")
    eva = make_user(name="Eva Export", email="eva@example.com")
    colleague = make_user(name="Carla Colleague", email="carla@example.com")
    alpha = make_org("Alpha GmbH", owner=otto, members={colleague: Role.member})
    beta = make_org("Beta GmbH", members={eva: Role.viewer})
    gamma = make_org("Gamma GmbH", members={eva: Role.member})
    with tenancy.tenant_context(session, alpha.id):
        otto_membership = session.scalars(
            select(Membership).where(Membership.user_id == otto.id, Membership.organization_id == alpha.id)
        ).one()
        invitation = team.invite(session, alpha, otto_membership, "eva@example.com", Role.admin)
        team.accept(session, invitation, eva)
        session.flush()
        eva_membership = session.scalars(
            select(Membership).where(Membership.user_id == eva.id, Membership.organization_id == alpha.id)
        ).one()
        team.invite(session, alpha, eva_membership, "secret-friend@example.com", Role.viewer)
        mine = cycle_in(session, eva, Stage.result, "Evas Angebote")
        theirs = cycle_in(session, colleague, Stage.result, "Carlas Leads")
        candidates.propose(session, {"title": "Evas Engpass", "who_feels_it": "Vertrieb"}, eva.id)
        candidates.propose(session, {"title": "Carlas Kandidat"}, colleague.id)
        _token, secret = tokens.create_token(session, eva.id, "Power Automate", None, eva.id)
        tokens.create_token(session, otto.id, "Ottos Skript", None, otto.id)
        session.commit()
    with tenancy.tenant_context(session, gamma.id):
        cycle_in(session, eva, Stage.baseline, "Gamma-Zyklus")
        gamma_membership = session.scalars(
            select(Membership).where(Membership.user_id == eva.id, Membership.organization_id == gamma.id)
        ).one()
        team.leave(session, gamma_membership)
        session.commit()
    session.add(NotificationPreferences(user_id=eva.id, digest_weekday=4, digest_hour=8, reminders_enabled=False))
    sendlog.claim(session, eva.id, "welcome", str(alpha.id))
    sendlog.claim(session, otto.id, "welcome", str(alpha.id))
    session.commit()
    return eva, {"alpha": alpha, "beta": beta, "mine": mine.id, "theirs": theirs.id, "token": secret}


def test_the_export_holds_the_persons_data(session, make_user, make_org):
    eva, w = _world(session, make_user, make_org)
    data = export_user_data(session, eva)
    assert data["format"] == FORMAT
    assert data["profile"]["email"] == "eva@example.com" and data["profile"]["name"] == "Eva Export"
    assert data["notification_preferences"] == {
        "digest_enabled": True,
        "digest_weekday": 4,
        "digest_hour": 8,
        "reminders_enabled": False,
    }
    assert [(e["kind"], e["period"]) for e in data["emails_sent"]] == [("welcome", str(w["alpha"].id))]
    by_name = {org["name"]: org for org in data["organizations"]}
    assert list(by_name) == ["Alpha GmbH", "Beta GmbH"]  # not Gamma, which she left
    assert (by_name["Alpha GmbH"]["role"], by_name["Beta GmbH"]["role"]) == (Role.admin, Role.viewer)
    alpha = by_name["Alpha GmbH"]
    assert [(c["id"], c["title"], c["responsible"]) for c in alpha["cycles"]] == [(w["mine"], "Evas Angebote", True)]
    assert [m["cycle_title"] for m in alpha["measurements"]] == ["Evas Angebote"]
    assert {c["to"] for c in alpha["stage_changes"]} >= {Stage.baseline, Stage.result}
    actions = {e["action"] for e in alpha["audit_events"]}
    assert {"invitation.accepted", "member.invited", "cycle.created", "measurement.added"} <= actions
    assert [i["role"] for i in alpha["invitations_sent"]] == [Role.viewer]
    assert [i["email"] for i in alpha["invitation_accepted"]] == ["eva@example.com"]
    assert by_name["Beta GmbH"]["cycles"] == [] and by_name["Beta GmbH"]["audit_events"] == []
    assert [(t["name"], t["ends_with"]) for t in alpha["api_tokens"]] == [("Power Automate", w["token"][-4:])]
    assert [(c["title"], c["who_feels_it"], c["status"]) for c in alpha["candidates_proposed"]] == [
        ("Evas Engpass", "Vertrieb", "open")
    ]


def test_the_export_holds_nothing_of_anyone_else(session, make_user, make_org):
    eva, w = _world(session, make_user, make_org)
    text = json.dumps(export_user_data(session, eva), default=str)
    for foreign in ("Otto", "otto@example.com", "Carla", "carla@example.com", "secret-friend@example.com"):
        assert foreign not in text
    assert "Carlas Leads" not in text and "Carlas Kandidat" not in text and "Gamma" not in text
    assert "password" not in text.replace("password_changed_at", "")
    assert "session_token" not in text
    assert "Ottos Skript" not in text
    assert w["token"] not in text and tokens.hash_token(w["token"]) not in text, "never the token or its hash"


def test_the_download_is_a_json_attachment(client, session, make_user, make_org, login, count_queries):
    eva, _ = _world(session, make_user, make_org)
    login(eva)
    assert client.get("/account/export").status_code == 405
    with count_queries() as counter:
        response = client.post("/account/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="engpass-export-')
    assert response.headers["Cache-Control"] == "private, no-store"
    data = json.loads(response.data)
    assert data["profile"]["email"] == "eva@example.com"
    # The user, preferences, memberships, send log, security log; seven per organization.
    assert counter.count == 5 + 7 * 2, counter.statements


def test_the_export_needs_the_csrf_token(app, client, session, make_user, make_org, login):
    eva, _ = _world(session, make_user, make_org)
    login(eva)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/account/export").status_code == 400
