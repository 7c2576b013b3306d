"""The e-mail settings page (logged in, and behind the signed link), one-click unsubscribing, and the
development outbox page."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeSerializer

from engpass.mail import Mail, Mailer, build_message
from engpass.notifications import links, preferences
from engpass.notifications.models import NotificationPreferences
from engpass.notifications.preferences import Preferences, Topic
from tests.support.accounts import csrf_token_from


def _path(url: str) -> str:
    return urlsplit(url).path


def _unsubscribe_path(app, user, topic=Topic.digest) -> str:
    with app.app_context():
        return _path(links.for_user(user, topic).unsubscribe)


def _settings_path(app, user) -> str:
    with app.app_context():
        return _path(links.for_user(user, None).preferences)


def _stored(session, user) -> Preferences:
    session.expire_all()
    return preferences.preferences_of(session, session.get(type(user), user.id))


def _no_row(session, user) -> bool:
    session.expire_all()
    return session.get(NotificationPreferences, user.id) is None


VALID = {"digest_enabled": "y", "digest_weekday": "4", "digest_hour": "16", "reminders_enabled": "y"}


# --- one-click unsubscribe ----------------------------------------------------------------------


def test_one_click_post_unsubscribes_without_session_cookie_or_csrf(app, client, session, make_user):
    app.config["WTF_CSRF_ENABLED"] = True  # as in production: the token alone must be enough
    user = make_user()
    path = _unsubscribe_path(app, user, Topic.digest)
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert _stored(session, user) == replace(preferences.DEFAULTS, digest_enabled=False)
    # Again: still 200, still off.
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert not _stored(session, user).digest_enabled


def test_the_reminders_link_switches_off_only_reminders(app, client, session, make_user):
    user = make_user()
    assert client.post(_unsubscribe_path(app, user, Topic.reminders)).status_code == 200
    assert _stored(session, user) == replace(preferences.DEFAULTS, reminders_enabled=False)


def test_get_only_asks_and_the_button_unsubscribes(app, client, session, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user()
    path = _unsubscribe_path(app, user)
    page = client.get(path)
    assert page.status_code == 200
    assert "Vom Wochenbericht abmelden?" in page.text
    assert _no_row(session, user), "a link scanner's GET must not unsubscribe"
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "Sie sind abgemeldet." in done.text
    assert not _stored(session, user).digest_enabled


def _forgeries(app, victim, attacker):
    """Tokens that must not unsubscribe ``victim``: made up, altered, re-targeted, of another key or kind."""
    with app.app_context():
        genuine = links.unsubscribe_token("test-secret-key", attacker, Topic.digest)
        payload, signature = genuine.rsplit(".", 1)
        retargeted = URLSafeSerializer("test-secret-key", salt="x").dump_payload(
            {"u": victim.id, "t": "digest", "e": links._fingerprint(victim)}
        )
        return {
            "made up": "not-a-token",
            "empty payload": ".",
            "altered signature": f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
            "victim's payload, attacker's signature": f"{retargeted.decode()}.{signature}",
            "other secret key": links.unsubscribe_token("another-key", victim, Topic.digest),
            "settings token": links.preferences_token("test-secret-key", victim),
            "unknown topic": URLSafeSerializer("test-secret-key", salt=links.UNSUBSCRIBE_SALT).dumps(
                {"u": victim.id, "t": "everything", "e": links._fingerprint(victim)}
            ),
            "wrong address": URLSafeSerializer("test-secret-key", salt=links.UNSUBSCRIBE_SALT).dumps(
                {"u": victim.id, "t": "digest", "e": "0" * 16}
            ),
            "no such user": URLSafeSerializer("test-secret-key", salt=links.UNSUBSCRIBE_SALT).dumps(
                {"u": 987654321, "t": "digest", "e": "0" * 16}
            ),
            "not a dict": URLSafeSerializer("test-secret-key", salt=links.UNSUBSCRIBE_SALT).dumps([victim.id]),
        }


def test_forged_tampered_or_retargeted_unsubscribe_links_are_refused_and_change_nothing(
    app, client, session, make_user
):
    victim, attacker = make_user(), make_user()
    for name, token in _forgeries(app, victim, attacker).items():
        for method in ("GET", "POST"):
            response = client.open(f"/notifications/unsubscribe/{token}", method=method)
            assert response.status_code == 403, f"{name} {method}: {response.status_code}"
            assert "Dieser Link ist nicht gültig." in response.text, name
    assert _no_row(session, victim)
    assert _no_row(session, attacker)


def test_a_changed_address_voids_old_links(app, client, session, make_user):
    user = make_user(email="old@example.com")
    unsubscribe, settings_page = _unsubscribe_path(app, user), _settings_path(app, user)
    user.email = "new@example.com"
    session.commit()
    assert client.post(unsubscribe).status_code == 403
    assert client.get(settings_page).status_code == 403
    assert _no_row(session, user)


# --- the settings page behind the signed link -------------------------------------------------


def test_the_link_in_an_email_opens_the_settings_without_login(app, client, session, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user(email="sabine@example.com")
    path = _settings_path(app, user)
    page = client.get(path)
    assert page.status_code == 200
    assert "E-Mail-Einstellungen" in page.text
    assert "sabine@example.com" in page.text
    assert "Europe/Berlin" in page.text
    assert page.headers["Cache-Control"] == "private, no-store"
    assert client.post(path, data=VALID).status_code == 400, "the form itself still needs its CSRF token"
    assert _no_row(session, user)
    response = client.post(path, data={**VALID, "csrf_token": csrf_token_from(page.text)})
    assert response.status_code == 302
    assert response.location == path
    assert _stored(session, user) == Preferences(
        digest_enabled=True, digest_weekday=4, digest_hour=16, reminders_enabled=True
    )
    assert "Ihre E-Mail-Einstellungen wurden gespeichert." in client.get(path).text


def test_unchecked_boxes_switch_off(app, client, session, make_user):
    user = make_user()
    response = client.post(_settings_path(app, user), data={"digest_weekday": "0", "digest_hour": "7"})
    assert response.status_code == 302
    assert _stored(session, user) == replace(preferences.DEFAULTS, digest_enabled=False, reminders_enabled=False)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("digest_hour", "25", "Bitte wählen Sie eine volle Stunde zwischen 00:00 und 23:00."),
        ("digest_hour", "-1", "Bitte wählen Sie eine volle Stunde zwischen 00:00 und 23:00."),
        ("digest_hour", "7.5", "Bitte wählen Sie eine volle Stunde zwischen 00:00 und 23:00."),
        ("digest_weekday", "9", "Bitte wählen Sie einen Wochentag von Montag bis Sonntag."),
        ("digest_weekday", "Montag", "Bitte wählen Sie einen Wochentag von Montag bis Sonntag."),
        ("digest_weekday", "", "Bitte wählen Sie einen Wochentag von Montag bis Sonntag."),
        ("digest_hour", "9" * 5000, "Bitte wählen Sie eine volle Stunde zwischen 00:00 und 23:00."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(
    app, client, session, make_user, field, value, message
):
    user = make_user()
    preferences.save(session, user.id, digest_weekday=2, digest_hour=9)
    session.commit()
    response = client.post(_settings_path(app, user), data={**VALID, field: value})
    assert response.status_code == 422
    assert message in response.text
    assert _stored(session, user) == replace(preferences.DEFAULTS, digest_weekday=2, digest_hour=9)


def test_the_page_speaks_english_to_an_english_browser(app, client, make_user):
    user = make_user()
    response = client.post(
        _settings_path(app, user), data={**VALID, "digest_hour": "25"}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert "E-mail settings" in response.text
    assert "Please choose a full hour between 00:00 and 23:00." in response.text
    assert "Friday" in response.text


def test_an_expired_settings_link_says_so(app, client, session, make_user, monkeypatch):
    user = make_user()
    month_ago = int(time.time()) - 31 * 24 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: month_ago)
    path = _settings_path(app, user)
    monkeypatch.undo()
    for method in ("GET", "POST"):
        response = client.open(path, method=method, data=VALID)
        assert response.status_code == 410
        assert "Dieser Link ist abgelaufen." in response.text
    assert _no_row(session, user)


def test_forged_settings_links_are_refused(app, client, session, make_user):
    victim, attacker = make_user(), make_user()
    genuine = _settings_path(app, attacker).rsplit("/", 1)[1]
    unsubscribe = _unsubscribe_path(app, victim).rsplit("/", 1)[1]
    for token in ("x", genuine[:-3] + "abc", unsubscribe, links.preferences_token("another-key", victim)):
        response = client.post(f"/notifications/settings/{token}", data=VALID)
        assert response.status_code == 403, token
        assert "Dieser Link ist nicht gültig." in response.text
    assert _no_row(session, victim)


# --- the settings page with a login -----------------------------------------------------------


def test_the_account_page_needs_a_login(client):
    response = client.get("/account/notifications")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_the_account_menu_leads_to_the_settings_and_they_save(client, session, make_user, make_org, login):
    user = make_user()
    org = make_org(owner=user)
    login(user)
    home = client.get(f"/o/{org.slug}/")
    assert 'href="/account/notifications"' in home.text
    assert client.get("/account/notifications").status_code == 200
    response = client.post("/account/notifications", data={**VALID, "reminders_enabled": ""})
    assert response.status_code == 302
    assert response.location == "/account/notifications"
    assert _stored(session, user) == Preferences(digest_weekday=4, digest_hour=16, reminders_enabled=False)
    bad = client.post("/account/notifications", data={**VALID, "digest_weekday": "9"})
    assert bad.status_code == 422
    assert _stored(session, user).digest_weekday == 4


# --- the development outbox page --------------------------------------------------------------


def _write_mails(settings, count: int = 3) -> None:
    with Mailer(settings) as mailer:
        for i in range(count):
            html = f"<p>HTML {i}</p><script>alert(1)</script>"
            mail = Mail(to=f"u{i}@example.com", subject=f"Betreff {i}", text=f"Text {i}", html=html)
            assert mailer.send(build_message(mail, settings.mail_from)).ok


def test_the_outbox_page_lists_the_newest_first_and_shows_one(app, client, settings):
    _write_mails(settings)
    (Path(settings.outbox_dir) / "secret.txt").write_text("not a mail")
    page = client.get("/dev/mail/")
    assert page.status_code == 200
    assert page.text.index("Betreff 2") < page.text.index("Betreff 1") < page.text.index("Betreff 0")
    assert "u2@example.com" in page.text
    newest = sorted(Path(settings.outbox_dir).glob("*.eml"))[-1].name
    shown = client.get(f"/dev/mail/{newest}")
    assert shown.status_code == 200
    assert "Betreff 2" in shown.text
    assert "Text 2" in shown.text
    html = client.get(f"/dev/mail/{newest}/html")
    assert html.status_code == 200
    assert "HTML 2" in html.text
    # The mail's HTML is shown as it is, but can run nothing and load nothing.
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert "script-src" not in html.headers["Content-Security-Policy"]
    assert "default-src 'none'" in html.headers["Content-Security-Policy"]


@pytest.mark.parametrize("name", ["secret.txt", "..%2Fsecret_key", "20261201T000000-zzzzzzzz.eml", "x.eml"])
def test_the_outbox_page_serves_nothing_but_its_mails(app, client, settings, name):
    _write_mails(settings, 1)
    (Path(settings.outbox_dir) / "secret.txt").write_text("not a mail")
    assert client.get(f"/dev/mail/{name}").status_code == 404


@pytest.mark.parametrize(
    "environ",
    [
        {"REMOTE_ADDR": "10.0.0.7"},
        {"REMOTE_ADDR": "192.168.1.20"},
        {"REMOTE_ADDR": "2001:db8::1"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": "for=203.0.113.9"},
    ],
)
def test_the_outbox_page_is_404_for_anyone_but_the_local_developer(app, client, settings, environ):
    _write_mails(settings, 1)
    name = next(Path(settings.outbox_dir).glob("*.eml")).name
    for url in ("/dev/mail/", f"/dev/mail/{name}", f"/dev/mail/{name}/html"):
        response = client.get(url, environ_base=environ)
        assert response.status_code == 404, url
        assert "Betreff" not in response.text
    assert client.get("/dev/mail/", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_the_outbox_page_is_404_when_smtp_is_configured(app, client, settings):
    _write_mails(settings, 1)
    settings.smtp_url = "smtp://mail.example.com"
    assert client.get("/dev/mail/").status_code == 404
