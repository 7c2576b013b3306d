"""The sign-up tells nobody who has an account: an address with one gets the answer of a new sign-up,
without an account or a session behind it, and its owner gets an e-mail instead — once a day."""

import re
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engpass.accounts import signup_notice
from engpass.accounts.models import User
from engpass.organizations.models import Organization
from engpass.task_names import SEND_SIGNUP_NOTICE
from tests.support.app import build_app


def _form(email: str, company: str = "Alpha Technik GmbH") -> dict[str, str]:
    return {"name": "Eve Neugier", "email": email, "company": company, "password": "ein-langes-passwort"}


def _signup(client, data):
    page = client.get("/signup")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    return client.post("/signup", data={**data, "csrf_token": token})


def _comparable(response):
    """Status, headers and body with what differs between any two answers anyway: the cookies' values."""
    headers = []
    for name, value in response.headers.items():
        if name == "Set-Cookie":
            cookie_name, _sep, rest = value.partition("=")
            value = f"{cookie_name}=…;{rest.partition(';')[2]}"
        headers.append((name, value))
    return response.status_code, sorted(headers), response.get_data()


@pytest.fixture
def csrf_client(settings, connection):
    """Real CSRF tokens, as an attacker's browser would post them."""
    app = build_app(settings, connection)
    app.config["WTF_CSRF_ENABLED"] = True
    return app.test_client


def test_an_address_with_an_account_gets_the_answer_of_a_new_sign_up(csrf_client, session, make_user):
    owner = make_user("owner@alpha.example", "Olga Owner")
    taken = _signup(csrf_client(), _form("OWNER@alpha.example"))
    # Behind the taken address's answer: no organization, no account, no change to the owner's.
    assert session.scalar(select(func.count()).select_from(Organization)) == 0
    new = _signup(csrf_client(), _form("neu@alpha.example"))
    assert _comparable(taken) == _comparable(new)
    assert taken.status_code == 302 and taken.location == "/o/alpha-technik-gmbh/"
    session.refresh(owner)
    assert owner.name == "Olga Owner"


def test_the_attacker_gets_no_session(client, session, make_user):
    make_user("owner@alpha.example")
    client.post("/signup", data=_form("owner@alpha.example"))
    assert client.get("/o/alpha-technik-gmbh/").status_code == 302
    assert client.get("/account/settings").location.startswith("/login")


def _mails(app):
    folder = Path(app.extensions["engpass.settings"].outbox_dir)
    return [message_from_bytes(p.read_bytes(), policy=email_policy.default) for p in sorted(folder.glob("*.eml"))]


@pytest.mark.parametrize(
    ("locale", "subject", "says"),
    [
        ("de", "Jemand wollte sich mit Ihrer Adresse registrieren", "Wenn Sie es waren, melden Sie sich an"),
        ("en", "Someone tried to sign up with your address", "If it was you, log in"),
    ],
)
def test_the_owner_hears_of_it_once_a_day_in_their_language(
    app, client, session, publisher, make_user, locale, subject, says
):
    owner = make_user("owner@alpha.example", "Olga Owner", locale=locale)
    for _ in range(3):
        assert client.post("/signup", data=_form("owner@alpha.example")).status_code == 302
    tasks = [kwargs for name, kwargs, _id in publisher.published if name == SEND_SIGNUP_NOTICE]
    assert tasks == [{"user_id": owner.id, "day": tasks[0]["day"]}] * 3
    with app.app_context():
        sent = [signup_notice.send_notice(session, **kwargs) for kwargs in tasks]
    assert sent == [True, False, False]
    (mail,) = _mails(app)
    assert mail["To"] == "owner@alpha.example"
    assert mail["Subject"] == subject
    text = mail.get_body(("plain",)).get_content()
    assert says in text
    assert "http://engpass.test/login" in text and "http://engpass.test/password/forgot" in text
    # The new visitor's address never gets a notice, and nobody an account.
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_the_worker_task_sends_the_notice(app, celery, settings, session, make_user):
    owner = make_user("owner@alpha.example")
    send = celery.tasks[SEND_SIGNUP_NOTICE]
    assert send.apply(kwargs={"user_id": owner.id, "day": "2026-12-06"}, throw=True).get() is True
    assert send.apply(kwargs={"user_id": owner.id, "day": "2026-12-06"}, throw=True).get() is False
    assert [mail["To"] for mail in _mails(app)] == ["owner@alpha.example"]
