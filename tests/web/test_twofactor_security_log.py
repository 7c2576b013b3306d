"""The per-user security log: which events are written, how addresses are shortened, where it shows."""

import json
import re
import time

import pyotp
from sqlalchemy import select

from engpass.accounts import security_log
from engpass.accounts.models import SecurityEvent
from engpass.db import utcnow
from tests.support.accounts import PASSWORD

IP = {"REMOTE_ADDR": "203.0.113.77"}


def _kinds(session, user):
    session.expire_all()
    rows = session.scalars(select(SecurityEvent).where(SecurityEvent.user_id == user.id).order_by(SecurityEvent.id))
    return [row.kind for row in rows]


def test_addresses_are_kept_only_as_their_network():
    assert security_log.network_of("203.0.113.77") == "203.0.113.0/24"
    assert security_log.network_of("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert security_log.network_of("not an ip") is None
    assert security_log.network_of(None) is None


def test_logins_failures_and_logout_are_logged_without_the_password(client, session, make_user, make_org):
    user = make_user()
    make_org(owner=user)
    client.post("/login", data={"email": user.email, "password": "falsch-falsch"}, environ_base=IP)
    client.post("/login", data={"email": "niemand@example.com", "password": "x"}, environ_base=IP)
    client.post("/login", data={"email": user.email, "password": PASSWORD}, environ_base=IP)
    client.post("/logout", environ_base=IP)
    assert _kinds(session, user) == ["login_failed", "login", "logout"]
    rows = session.scalars(select(SecurityEvent)).all()
    assert {row.network for row in rows} == {"203.0.113.0/24"}
    assert len(rows) == 3  # nothing for an address without an account


def test_two_factor_password_and_reauth_events(client, session, make_user, login):
    user = make_user()
    login(user)
    page = client.get("/account/two-factor/setup")
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    enrolled = client.post("/account/two-factor/setup", data={"code": pyotp.TOTP(secret).at(int(time.time()) - 30)})
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", enrolled.text)
    client.post("/logout")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post("/login/two-factor", data={"code": "000000"})
    client.post("/login/two-factor", data={"code": codes[0]})
    client.post("/account/confirm", data={"password": "falsch-falsch", "code": codes[1]})
    client.post("/account/confirm", data={"password": PASSWORD, "code": codes[1]})
    client.post("/account/two-factor/recovery-codes")
    client.post("/account/password", data={"current_password": PASSWORD, "password": "n" * 12, "confirm": "n" * 12})
    client.post("/account/two-factor/disable")
    assert _kinds(session, user) == [
        "login",
        "two_factor_enabled",
        "logout",
        "two_factor_failed",
        "recovery_code_used",
        "reauth_failed",
        "reauthenticated",
        "recovery_codes_renewed",
        "password_changed",
        "two_factor_disabled",
    ]


def test_the_account_settings_show_the_last_twenty_in_german(client, session, make_user, login):
    user = make_user()
    for _ in range(25):
        security_log.record(session, user.id, "login_failed", "198.51.100.9")
    login(user)
    page = client.get("/account/settings")
    assert page.status_code == 200
    assert "Sicherheitsereignisse" in page.text
    table = page.text.split('data-testid="security-events"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 20
    assert "Angemeldet" in table and "Fehlgeschlagene Anmeldung" in table
    assert "198.51.100.0/24" in table and "198.51.100.9" not in page.text


def test_old_events_go_when_a_new_one_is_written(session, make_user):
    user = make_user()
    session.add(SecurityEvent(user_id=user.id, kind="login", created_at=utcnow() - security_log.RETENTION * 2))
    session.flush()
    security_log.record(session, user.id, "logout")
    assert _kinds(session, user) == ["logout"]


def test_ones_export_holds_the_log_and_deletion_removes_it(client, session, make_user, login):
    user = make_user()
    login(user)
    exported = json.loads(client.post("/account/export").data)
    assert [event["kind"] for event in exported["security_events"]] == ["login"]
    client.post("/account/delete", data={"confirmation": user.email, "current_password": PASSWORD})
    assert session.scalars(select(SecurityEvent).where(SecurityEvent.user_id == user.id)).all() == []
