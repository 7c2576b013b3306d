"""Lock-out by strangers: wrong passwords for an account count per account *and* client address, so a
stranger slows only himself and the owner still gets in from elsewhere. In memory and in Redis."""

from uuid import uuid4

import pytest

from tests.support.accounts import PASSWORD
from tests.support.app import build_app


@pytest.fixture(params=["memory", "redis"])
def limited_client(request, settings, connection):
    """An app with the real rate limits, counted in memory or in Redis (the production setting)."""
    settings.rate_limits_enabled = True
    if request.param == "redis":
        settings.redis_url = request.getfixturevalue("redis_url")
    client = build_app(settings, connection).test_client()
    client.redis_url = settings.redis_url
    return client


def _counted_in_redis(client, email: str) -> bool:
    """Whether the limiter really counted in Redis (it falls back to memory silently when Redis fails)."""
    import redis

    keys = redis.Redis.from_url(client.redis_url).scan_iter(match=f"*{email}*")
    return any(True for _ in keys)


def _address() -> dict[str, str]:
    # Fresh per test run: Redis keeps its counters across runs for the rest of the minute.
    return {"REMOTE_ADDR": f"2001:db8::{uuid4().hex[:4]}:{uuid4().hex[:4]}"}


def _login(client, email, password, address):
    return client.post("/login", data={"email": email, "password": password}, environ_base=address)


def test_a_strangers_wrong_passwords_do_not_lock_out_the_owner(limited_client, make_user, make_org):
    owner = make_user()
    make_org(owner=owner)
    stranger, home = _address(), _address()
    tries = [_login(limited_client, owner.email, "wrong-password", stranger).status_code for _ in range(7)]
    assert tries == [401] * 5 + [429, 429]
    # The owner, from their own address, with the right password: in at once.
    assert _login(limited_client, owner.email, PASSWORD, home).status_code == 302
    # The stranger stays slowed down, even with the right password.
    assert _login(limited_client, owner.email, PASSWORD, stranger).status_code == 429
    if limited_client.redis_url:
        assert _counted_in_redis(limited_client, owner.email)


def test_one_address_trying_many_accounts_is_still_limited(limited_client):
    address = _address()
    tries = [_login(limited_client, f"u{i}-{uuid4().hex}@example.com", "wrong", address).status_code for i in range(12)]
    assert tries == [401] * 10 + [429, 429]


def test_a_stranger_asking_for_resets_does_not_block_the_owners_reset(limited_client, make_user):
    owner = make_user()
    stranger, home = _address(), _address()

    def ask(address):
        return limited_client.post("/password/forgot", data={"email": owner.email}, environ_base=address).status_code

    assert [ask(stranger) for _ in range(6)] == [302] * 5 + [429]
    assert ask(home) == 302


def test_many_addresses_cannot_flood_the_owners_inbox_and_the_answer_never_changes(limited_client, settings, make_user):
    from pathlib import Path

    owner = make_user()
    answers = {
        limited_client.post("/password/forgot", data={"email": owner.email}, environ_base=_address()).location
        for _ in range(8)
    }
    assert answers == {"/login"}
    mails = [p for p in Path(settings.outbox_dir).glob("*.eml") if owner.email in p.read_text()]
    assert len(mails) == 5
