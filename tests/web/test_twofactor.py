"""TOTP two-factor authentication: enrolment, the login's second step, replay, recovery codes, switching off."""

import base64
import json
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engpass.accounts import twofactor
from engpass.accounts.models import RecoveryCode, User
from engpass.db import utcnow
from tests.support.accounts import PASSWORD
from tests.support.app import build_app
from tests.support.hostile import non_ascii_digits


def _enrol_code(secret):
    """The previous step's code (still valid): the login's ``now()`` code is then a fresh one."""
    return pyotp.TOTP(secret).at(int(time.time()) - 30)


def _enrol(client):
    page = client.get("/account/two-factor/setup")
    assert page.status_code == 200
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    assert "<svg" in page.text
    done = client.post("/account/two-factor/setup", data={"code": _enrol_code(secret)})
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.text)
    return secret, codes


@pytest.fixture
def enrolled(client, session, make_user, make_org, login):
    user = make_user()
    org = make_org(owner=user)
    login(user)
    secret, codes = _enrol(client)
    client.post("/logout")
    return user, org, secret, codes


def _password_step(client, user, **extra):
    return client.post("/login", data={"email": user.email, "password": PASSWORD, **extra})


def test_enrolment_stores_the_secret_encrypted_and_ten_hashed_recovery_codes(session, enrolled, settings):
    user, _org, secret, codes = enrolled
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored.has_two_factor
    assert secret not in stored.totp_secret
    assert twofactor.secret_of(stored, settings.secret_key) == secret
    assert len(codes) == 10 and len(set(codes)) == 10
    hashes = [row.code_hash for row in session.query(RecoveryCode).filter_by(user_id=user.id)]
    assert len(hashes) == 10 and not set(codes) & set(hashes)


def test_a_wrong_code_at_enrolment_enables_nothing(client, session, make_user, login):
    user = make_user()
    login(user)
    client.get("/account/two-factor/setup")
    wrong = client.post("/account/two-factor/setup", data={"code": "000000"})
    assert wrong.status_code == 422
    assert "Dieser Code ist nicht korrekt" in wrong.text
    assert client.post("/account/two-factor/setup", data={"code": ""}).status_code == 422
    session.expire_all()
    assert not session.get(User, user.id).has_two_factor


def test_login_needs_the_code_after_the_password(client, enrolled):
    user, org, secret, _codes = enrolled
    first = _password_step(client, user)
    assert first.status_code == 302 and first.location.startswith("/login/two-factor")
    # Password alone: not signed in.
    assert client.get(f"/o/{org.slug}/").status_code == 302
    wrong = client.post("/login/two-factor", data={"code": "123456"})
    assert wrong.status_code == 401
    assert client.get(f"/o/{org.slug}/").status_code == 302
    ok = client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert ok.status_code == 302
    assert client.get(f"/o/{org.slug}/").status_code == 200


def test_a_code_is_accepted_only_once(app, client, enrolled):
    user, org, secret, _codes = enrolled
    code = pyotp.TOTP(secret).now()
    _password_step(client, user)
    assert client.post("/login/two-factor", data={"code": code}).status_code == 302
    other = app.test_client()
    _password_step(other, user)
    replay = other.post("/login/two-factor", data={"code": code})
    assert replay.status_code == 401
    assert "bereits verwendet" in replay.text


def test_the_enrolment_code_is_used_up(client, make_user, login):
    user = make_user()
    login(user)
    page = client.get("/account/two-factor/setup")
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    code = pyotp.TOTP(secret).now()
    assert client.post("/account/two-factor/setup", data={"code": code}).status_code == 200
    client.post("/logout")
    _password_step(client, user)
    assert client.post("/login/two-factor", data={"code": code}).status_code == 401


def test_a_recovery_code_works_once(client, session, enrolled):
    user, org, _secret, codes = enrolled
    _password_step(client, user)
    used = client.post("/login/two-factor", data={"code": codes[0].upper()})
    assert used.status_code == 302
    assert client.get(f"/o/{org.slug}/").status_code == 200
    client.post("/logout")
    _password_step(client, user)
    assert client.post("/login/two-factor", data={"code": codes[0]}).status_code == 401
    assert twofactor.remaining_recovery_codes(session, session.get(User, user.id)) == 9


def test_the_pending_step_expires_and_does_not_survive_a_password_change(client, session, enrolled):
    user, _org, secret, _codes = enrolled
    _password_step(client, user)
    with client.session_transaction() as sess:
        sess["two_factor_pending"] = {**sess["two_factor_pending"], "until": int(time.time()) - 1}
    late = client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert late.status_code == 302 and late.location == "/login"
    _password_step(client, user)
    stored = session.get(User, user.id)
    stored.set_password("ganz-neues-passwort")
    session.flush()
    voided = client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert voided.status_code == 302 and voided.location == "/login"
    assert client.get("/login/two-factor").location == "/login"


def test_the_login_keeps_a_local_next_through_the_second_step(client, enrolled):
    user, org, secret, _codes = enrolled
    first = client.post(f"/login?next=/o/{org.slug}/team", data={"email": user.email, "password": PASSWORD})
    assert first.location == f"/login/two-factor?next=/o/{org.slug}/team"
    done = client.post(first.location, data={"code": pyotp.TOTP(secret).now()})
    assert done.location == f"/o/{org.slug}/team"


def test_reauth_with_two_factor_asks_for_the_code_too(client, enrolled):
    user, _org, secret, codes = enrolled
    _password_step(client, user)
    client.post("/login/two-factor", data={"code": codes[1]})
    with client.session_transaction() as sess:
        sess["auth_at"] = 0
    page = client.get("/account/confirm")
    assert 'name="code"' in page.text
    no_code = client.post("/account/confirm", data={"password": PASSWORD, "code": "000000"})
    assert no_code.status_code == 401
    ok = client.post("/account/confirm?next=/account/two-factor/", data={"password": PASSWORD, "code": codes[2]})
    assert ok.status_code == 302 and ok.location == "/account/two-factor/"


def test_switching_off_needs_a_recent_login_and_removes_everything(client, session, enrolled):
    user, _org, secret, codes = enrolled
    _password_step(client, user)
    client.post("/login/two-factor", data={"code": codes[0]})
    with client.session_transaction() as sess:
        sess["auth_at"] = 0
    assert client.post("/account/two-factor/disable").status_code == 303
    session.expire_all()
    assert session.get(User, user.id).has_two_factor
    client.post("/account/confirm", data={"password": PASSWORD, "code": codes[1]})
    assert client.post("/account/two-factor/disable").status_code == 302
    session.expire_all()
    assert not session.get(User, user.id).has_two_factor
    assert session.query(RecoveryCode).filter_by(user_id=user.id).count() == 0
    client.post("/logout")
    assert _password_step(client, user).location != "/login/two-factor"


def test_new_recovery_codes_replace_the_old_ones(client, session, enrolled):
    user, _org, _secret, codes = enrolled
    _password_step(client, user)
    client.post("/login/two-factor", data={"code": codes[0]})
    page = client.post("/account/two-factor/recovery-codes")
    fresh = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page.text)
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    client.post("/logout")
    _password_step(client, user)
    assert client.post("/login/two-factor", data={"code": codes[5]}).status_code == 401
    assert client.post("/login/two-factor", data={"code": fresh[0]}).status_code == 302


def test_codes_from_the_neighbouring_step_count_older_ones_do_not():
    secret = pyotp.random_base32()
    now = utcnow()
    totp = pyotp.TOTP(secret)
    assert twofactor.enrolment_step(secret, totp.at(now - timedelta(seconds=30)), now) == totp.timecode(now) - 1
    assert twofactor.enrolment_step(secret, totp.at(now - timedelta(seconds=95)), now) is None
    assert twofactor.enrolment_step(secret, "12345", now) is None
    assert twofactor.enrolment_step(secret, "abcdef", now) is None


def test_a_changed_secret_key_makes_the_stored_secret_unreadable(session, enrolled):
    user, *_ = enrolled
    assert twofactor.secret_of(session.get(User, user.id), "another-key") is None


@pytest.fixture
def limited_client(settings, connection):
    settings.rate_limits_enabled = True
    return build_app(settings, connection).test_client()


def test_the_code_step_is_rate_limited_per_account(enrolled, limited_client):
    user, *_ = enrolled
    client = limited_client
    _password_step(client, user)
    statuses = [
        client.post(
            "/login/two-factor", data={"code": "000000"}, environ_base={"REMOTE_ADDR": f"10.0.2.{i}"}
        ).status_code
        for i in range(7)
    ]
    assert statuses[:4] == [401] * 4
    assert 429 in statuses[4:]


def test_ones_data_export_says_since_when_2fa_is_on_and_holds_no_secret(client, session, enrolled, settings):
    user, _org, secret, codes = enrolled
    _password_step(client, user)
    client.post("/login/two-factor", data={"code": codes[0]})
    exported = client.post("/account/export")
    assert exported.status_code == 200
    assert json.loads(exported.data)["profile"]["two_factor_enabled_at"]
    session.expire_all()
    stored = session.get(User, user.id)
    for credential in (secret, stored.totp_secret, *codes):
        assert credential not in exported.text


def test_deleting_the_account_deletes_its_recovery_codes(client, session, make_user, login):
    user = make_user()
    login(user)
    _enrol(client)
    client.post("/account/delete", data={"confirmation": user.email, "current_password": PASSWORD})
    assert session.query(RecoveryCode).filter_by(user_id=user.id).count() == 0


def _in_other_digits(code: str) -> st.SearchStrategy[str]:
    """``code`` with some of its digits written in other scripts' digits of the same value (Unicode Nd):
    what ``int()`` and ``str.isdigit()`` read as the same number."""

    def same_value(digit: str) -> st.SearchStrategy[str]:
        # Unicode keeps each script's decimal digits together, zero to nine.
        other = non_ascii_digits.map(lambda ch: chr(ord(ch) - unicodedata.digit(ch) + int(digit)))
        return st.just(digit) | other

    return st.tuples(*map(same_value, code)).map("".join).filter(lambda written: not written.isascii())


@given(
    secret=st.binary(min_size=20, max_size=20).map(lambda raw: base64.b32encode(raw).decode()),
    now=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    data=st.data(),
)
@settings(max_examples=60, deadline=None, derandomize=True, database=None)
def test_a_code_in_other_digits_is_just_wrong(secret, now, data):
    code = pyotp.TOTP(secret).at(now)
    assert twofactor.enrolment_step(secret, code, now) is not None
    assert twofactor.enrolment_step(secret, data.draw(_in_other_digits(code)), now) is None


def test_the_login_takes_a_code_in_other_digits_as_a_wrong_one(app, client, enrolled):
    user, org, secret, _codes = enrolled
    _password_step(client, user)

    @given(written=_in_other_digits(pyotp.TOTP(secret).now()))
    @settings(max_examples=10, deadline=None, derandomize=True, database=None)
    def run(written):
        wrong = client.post("/login/two-factor", data={"code": written})
        assert wrong.status_code == 401 and "Dieser Code ist nicht korrekt" in wrong.text
        assert client.get(f"/o/{org.slug}/").status_code == 302

    run()
