"""Account settings: name, language, time zone, and the e-mail change confirmed from the new address."""

import re
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pytest
from sqlalchemy import select

from engpass.accounts import service
from engpass.accounts.models import User
from tests.support.accounts import PASSWORD

VALID = {"name": "Sabine Müller", "locale": "de", "timezone": "Europe/Berlin"}


@pytest.fixture
def logged_in_user(make_user, make_org, login):
    user = make_user(name="Sabine", email="sabine@example.com")
    make_org(owner=user)
    login(user)
    return user


def _mails(app):
    folder = Path(app.extensions["engpass.settings"].outbox_dir)
    return (
        [message_from_bytes(p.read_bytes(), policy=email_policy) for p in sorted(folder.glob("*.eml"))]
        if folder.exists()
        else []
    )


def _text(message):
    return next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()


def _fresh(session, user):
    session.expire_all()
    return session.get(User, user.id)


def test_the_page_needs_a_login(client):
    response = client.get("/account/settings")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_name_language_and_time_zone_are_saved(client, session, logged_in_user):
    page = client.get("/account/settings")
    assert page.status_code == 200 and 'href="/account/password"' in page.text
    response = client.post(
        "/account/settings", data={"name": "Sabine Weber", "locale": "en", "timezone": "America/New_York"}
    )
    assert response.status_code == 302
    user = _fresh(session, logged_in_user)
    assert (user.name, user.locale, user.timezone) == ("Sabine Weber", "en", "America/New_York")
    assert "Account settings" in client.get("/account/settings").text


@pytest.mark.parametrize(
    "bad",
    [{"name": ""}, {"name": "x" * 121}, {"timezone": "Mars/Olympus"}, {"timezone": "UTC; DROP"}, {"locale": "fr"}],
)
def test_bad_settings_are_refused_next_to_the_field_and_nothing_is_saved(client, session, logged_in_user, bad):
    response = client.post("/account/settings", data={**VALID, "name": "Neuer Name", **bad})
    assert response.status_code == 422
    assert 'class="field__error"' in response.text
    user = _fresh(session, logged_in_user)
    assert (user.name, user.timezone, user.locale) == ("Sabine", "Europe/Berlin", "de")


def test_an_email_change_waits_for_the_new_address_then_tells_the_old_one(
    app, client, session, logged_in_user, make_user
):
    response = client.post("/account/email", data={"email": "Sabine@Neu.example", "current_password": PASSWORD})
    assert response.status_code == 302
    assert _fresh(session, logged_in_user).email == "sabine@example.com"  # nothing changes before the confirmation
    mail = _mails(app)[-1]
    assert mail["To"] == "sabine@neu.example"
    link = re.search(r"http://engpass\.test(/account/email/confirm/\S+)", _text(mail)).group(1)

    other_device = app.test_client()
    other_device.post("/login", data={"email": "sabine@example.com", "password": PASSWORD})
    assert other_device.get("/account/settings").status_code == 200

    confirm = client.get(link)
    assert confirm.status_code == 200 and "sabine@neu.example" in confirm.text
    assert _fresh(session, logged_in_user).email == "sabine@example.com"  # a link scanner's GET changes nothing
    assert client.post(link).status_code == 302
    assert _fresh(session, logged_in_user).email == "sabine@neu.example"
    notice = _mails(app)[-1]
    assert notice["To"] == "sabine@example.com" and "sabine@neu.example" in _text(notice)
    # This session goes on; the other device was signed out; the link is used up.
    assert client.get("/account/settings").status_code == 200
    assert other_device.get("/account/settings").status_code == 302
    assert client.get(link).status_code == 410
    assert client.post("/login", data={"email": "sabine@neu.example", "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "neu@example.com", "current_password": "falsch-falsch"}, "current_password"),
        ({"email": "sabine@example.com", "current_password": PASSWORD}, "email"),
        ({"email": "taken@example.com", "current_password": PASSWORD}, "email"),
        ({"email": "kein-at", "current_password": PASSWORD}, "email"),
        ({"email": "neu@example.com", "current_password": ""}, "current_password"),
    ],
)
def test_bad_email_changes_are_refused_with_a_message(app, client, session, logged_in_user, make_user, data, field):
    make_user(email="taken@example.com")
    response = client.post("/account/email", data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert _mails(app) == []
    assert _fresh(session, logged_in_user).email == "sabine@example.com"


def test_forged_expired_and_taken_links(app, client, session, logged_in_user, make_user):
    secret = app.extensions["engpass.settings"].secret_key
    token = service.make_email_change_token(secret, logged_in_user, "neu@example.com")
    # A character inside the signature changed for certain (the last one carries padding bits).
    i = len(token) - 5
    forged = token[:i] + ("B" if token[i] == "A" else "A") + token[i + 1 :]
    assert client.get(f"/account/email/confirm/{forged}").status_code == 404
    assert (
        client.get(
            f"/account/email/confirm/{service.make_email_change_token('other', logged_in_user, 'x@example.com')}"
        ).status_code
        == 404
    )
    with pytest.raises(service.EmailChangeInvalid, match="expired"):
        service.email_change_from_token(session, secret, token, max_age=-1)
    make_user(email="neu@example.com")
    taken = client.post(f"/account/email/confirm/{token}")
    assert taken.status_code == 409
    assert session.scalars(select(User.email).where(User.id == logged_in_user.id)).one() == "sabine@example.com"
