"""Sign-up, login, logout, password reset and change, sessions and rate limits."""

import re
from email import message_from_bytes
from pathlib import Path

import pytest
from sqlalchemy import select

from engpass import tenancy
from engpass.accounts.models import User
from engpass.accounts.service import make_reset_token
from engpass.audit.models import AuditEvent
from engpass.organizations.models import Membership, Role
from engpass.outbox.models import OutboxMessage
from engpass.task_names import SEND_WELCOME
from tests.support.accounts import PASSWORD, csrf_token_from
from tests.support.app import build_app

SIGNUP = {
    "name": "Sabine Müller",
    "email": "Sabine@Example.COM",
    "company": "Müller Metallbau GmbH",
    "password": "sicheres-passwort-42",
}


def _outbox_mails(app):
    folder = Path(app.extensions["engpass.settings"].outbox_dir)
    return [message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


def _text_part(message):
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


def test_signup_creates_user_company_owner_membership_and_welcome_work(client, session, publisher):
    response = client.post("/signup", data=SIGNUP)
    assert response.status_code == 302
    assert response.location == "/o/mueller-metallbau-gmbh/"
    user = session.scalars(select(User).where(User.email == "sabine@example.com")).one()
    membership = session.scalars(select(Membership).where(Membership.user_id == user.id)).one()
    assert membership.role == Role.owner
    assert membership.organization.name == "Müller Metallbau GmbH"
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.task_name == SEND_WELCOME)).one()
    assert message.kwargs == {"org_id": membership.organization_id, "user_id": user.id}
    assert [p[0] for p in publisher.published] == [SEND_WELCOME]
    with tenancy.tenant_context(session, membership.organization_id):
        assert session.scalars(select(AuditEvent.action)).all() == ["organization.created"]
    assert client.get("/o/mueller-metallbau-gmbh/").status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-address"), ("password", "short"), ("name", ""), ("company", "x" * 121), ("name", "n" * 500)],
)
def test_signup_rejects_bad_input_with_a_field_message(client, session, field, value):
    response = client.post("/signup", data={**SIGNUP, field: value})
    assert response.status_code == 422
    assert 'class="field__error"' in response.text
    assert session.scalar(select(User).where(User.email == "sabine@example.com")) is None


def test_login_is_case_insensitive_and_lands_on_last_used_organization(client, make_user, make_org, login):
    user = make_user(email="jonas@example.com")
    first = make_org("Erste GmbH", owner=user)
    second = make_org("Zweite GmbH", owner=user)
    response = client.post("/login", data={"email": " JONAS@example.com ", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(f"/o/{second.slug}/").status_code == 200
    client.post("/logout")
    assert login(user).location == f"/o/{second.slug}/"
    assert first.slug != second.slug


def test_unknown_email_and_wrong_password_get_the_same_answer(client, make_user):
    make_user(email="known@example.com")
    wrong = client.post("/login", data={"email": "known@example.com", "password": "wrong-password"})
    unknown = client.post("/login", data={"email": "nobody@example.com", "password": "wrong-password"})
    assert wrong.status_code == unknown.status_code == 401
    message = re.compile(r'<div class="alert alert--error" role="alert">(.*?)</div>')
    assert message.findall(wrong.text) == message.findall(unknown.text) != []


def test_login_redirect_target_is_limited_to_this_site(client, make_user):
    user = make_user()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(f"/login?next={target}", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302
        assert "evil" not in response.location


def test_session_cookie_is_httponly_and_lax_and_rotated_on_login(client, make_user):
    user = make_user()
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by-attacker"
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"].startswith(f"{user.id}:")


def test_secure_cookie_when_base_url_is_https(settings, connection):
    from engpass import create_app

    settings.base_url = "https://engpass.example"
    app = create_app(settings)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_logout_ends_the_session(client, make_user, make_org, login):
    user = make_user()
    org = make_org(owner=user)
    login(user)
    assert client.post("/logout").status_code == 302
    assert client.get(f"/o/{org.slug}/").status_code == 302


def test_logout_needs_post(client):
    assert client.get("/logout").status_code == 405


def test_password_reset_flow_is_single_use(app, client, session, make_user, make_org):
    user = make_user(email="reset@example.com")
    make_org(owner=user)
    response = client.post("/password/forgot", data={"email": "RESET@example.com"})
    assert response.status_code == 302
    (mail,) = _outbox_mails(app)
    assert mail["To"] == "reset@example.com"
    link = re.search(r"http://engpass.test(/password/reset/\S+)", _text_part(mail)).group(1)
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "brand-new-password", "confirm": "brand-new-password"})
    assert response.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": "brand-new-password"}).status_code == 302
    client.post("/logout")
    reused = client.get(link)
    assert reused.status_code == 302
    assert reused.location == "/password/forgot"


def test_password_reset_for_unknown_email_sends_nothing_and_says_the_same(app, client):
    response = client.post("/password/forgot", data={"email": "ghost@example.com"})
    assert response.status_code == 302
    assert _outbox_mails(app) == []


def test_forged_and_expired_reset_tokens_are_refused(app, client, make_user, settings):
    user = make_user()
    forged = make_reset_token("another-secret", user)
    assert client.get(f"/password/reset/{forged}").location == "/password/forgot"
    assert client.get("/password/reset/garbage").location == "/password/forgot"
    settings.password_reset_max_age = -1
    expired = make_reset_token(settings.secret_key, user)
    assert client.get(f"/password/reset/{expired}").location == "/password/forgot"


def test_change_password_needs_the_current_one_and_signs_out_other_sessions(app, client, make_user, make_org, login):
    user = make_user()
    org = make_org(owner=user)
    login(user)
    other = app.test_client()
    assert other.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    wrong = client.post(
        "/account/password", data={"current_password": "nope", "password": "x" * 12, "confirm": "x" * 12}
    )
    assert wrong.status_code == 422
    ok = client.post(
        "/account/password", data={"current_password": PASSWORD, "password": "y" * 12, "confirm": "y" * 12}
    )
    assert ok.status_code == 302
    assert client.get(f"/o/{org.slug}/").status_code == 200
    assert other.get(f"/o/{org.slug}/").status_code == 302


def test_forged_csrf_token_is_refused_with_a_clear_message(app, client, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user()
    page = client.get("/login")
    token = csrf_token_from(page.text)
    # One character of the signature changed for certain: the last ones of a base64 signature carry padding
    # bits (another last character can decode to the same bytes), and "xx" may already be there.
    position = len(token) - 5
    forged_token = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
    forged = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": forged_token})
    assert forged.status_code == 400
    assert "<h1>" in forged.text
    missing = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert missing.status_code == 400
    ok = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert ok.status_code == 302


@pytest.fixture
def limited_client(settings, connection):
    """A separate app with the real rate limits switched on (memory storage, fresh per test)."""
    settings.rate_limits_enabled = True
    yield build_app(settings, connection).test_client()


def test_login_is_rate_limited_per_ip(limited_client):
    client = limited_client
    statuses = [
        client.post("/login", data={"email": f"u{i}@example.com", "password": "wrong"}).status_code for i in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]


def test_passwords_are_hashed_with_scrypt(monkeypatch):
    monkeypatch.undo()  # the suite swaps in a fast hash; production keeps werkzeug's default
    user = User(email="hash@example.com", name="Hash")
    user.set_password("a long enough password")
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("a long enough password")
    assert not user.check_password("wrong")


def test_language_switch_redirects_only_within_this_site(client):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post("/language", data={"locale": "en", "next": target})
        assert response.status_code == 302
        assert response.location == "/"
    assert client.post("/language", data={"locale": "en", "next": "/login"}).location == "/login"
