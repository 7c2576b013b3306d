"""Whole pages served without the database while nothing they show has changed.

A cached page's key holds the session (the user with its session token, the CSRF secret
the page's forms are signed with, its language), the path, the day, and two version tokens: one for
what the page shows of the user (name, language, memberships and roles, the session
token) and one for what it shows of the organization (its settings, every row it owns, its members and
their names, and consultants' accesses).
Every change to those rows replaces the token with a fresh random one, so an older page
is never looked up again and expires on its own. Tokens are random rather than counters:
a token lost from Redis is replaced by a new one that no old page was stored under.

The tokens are replaced twice: when the change is flushed (still inside the transaction)
and again after it committed. A reader that read the old token keeps rendering from the
old rows and stores its page under a token nobody asks for any more; a crash between the
commit and the second replacement can leave a page at most ``PAGE_TTL`` old.

Tokens live in Redis, shared by web processes and workers. Without Redis the cache is
off: a per-process cache could not hear of another process's changes.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from flask import Response, request, session
from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from engpass import tenancy
from engpass.accounts.models import User
from engpass.consulting.models import ClientAccess
from engpass.db import utcnow
from engpass.organizations import memberships
from engpass.organizations.models import Membership, Organization

log = logging.getLogger(__name__)

PAGE_TTL = 15 * 60
TOKEN_TTL = 7 * 24 * 3600
# Pages a process keeps in memory besides Redis: the dashboards its sessions open again and again.
LOCAL_PAGES = 256
PENDING_KEY = "engpass.page_cache.pending"
FLUSHING_KEY = "engpass.page_cache.flushing"
# Flask-Login's and Flask-WTF's session keys: who is logged in ("<id>:<session token>"), and
# the secret the page's CSRF tokens are signed with.
USER_KEY = "_user_id"
CSRF_KEY = "csrf_token"
FLASHES_KEY = "_flashes"

USER = "u"
ORG = "o"
Target = tuple[str, int]
# The tokens of a page that shows many organizations (a consultancy's portfolio of 200 clients), read in
# Redis and handed back as the user's, the organization's and the others' joined in one string: one short
# reply instead of hundreds, which redis-py would parse one by one. Nothing when a token is missing.
_JOINED = b"""
local v = redis.call('MGET', unpack(KEYS))
for i = 1, #v do if not v[i] then return false end end
return {v[1], v[2], table.concat(v, ' ', 3)}
"""
_JOINED_SHA = hashlib.sha1(_JOINED).hexdigest()
# Lua's unpack() takes some 8,000 values at most; beyond this many the tokens are read with a plain MGET.
JOINED_MAX = 4000


@dataclass(frozen=True)
class Tokens:
    user: str
    org: str


class PageCache:
    """Pages in Redis, and the most recent ones also in this process's memory: a key names one
    version of a page forever, so a copy kept here is exactly as valid as the one in Redis and
    saves fetching the page on every hit (only the two tokens are read from Redis then)."""

    def __init__(self) -> None:
        self._redis: redis.Redis | None = None
        self.prefix = "engpass:"
        self._local: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        # Per organization, the related organizations last asked about and their token keys, encoded once.
        self._packed: dict[int, tuple[tuple[int, ...], bytes]] = {}

    def configure(self, url: str | None, prefix: str = "engpass:") -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1) if url else None
        self.prefix = prefix
        self._local.clear()
        self._packed.clear()

    def _remember(self, key: str, body: bytes, expires: float) -> None:
        self._local[key] = (expires, body)
        self._local.move_to_end(key)
        while len(self._local) > LOCAL_PAGES:
            self._local.popitem(last=False)

    @property
    def enabled(self) -> bool:
        return self._redis is not None

    def _token_key(self, target: Target) -> str:
        return f"{self.prefix}pv:{target[0]}:{target[1]}"

    def tokens(self, user_id: int, org_id: int) -> Tokens | None:
        """The current tokens, created when missing; None when Redis does not answer."""
        values = self.tokens_of([(USER, user_id), (ORG, org_id)])
        return None if values is None else Tokens(values[0], values[1])

    def tokens_of(self, targets: Sequence[Target]) -> list[str] | None:
        """The current tokens of ``targets`` in one round trip, created when missing; None without Redis."""
        if self._redis is None:
            return None
        keys = [self._token_key(target) for target in targets]
        try:
            values = self._redis.mget(keys)
            if None in values:
                with self._redis.pipeline(transaction=False) as pipe:
                    for key, value in zip(keys, values, strict=True):
                        if value is None:
                            pipe.set(key, secrets.token_hex(8), nx=True, ex=TOKEN_TTL)
                    pipe.mget(keys)
                    values = pipe.execute()[-1]
        except redis.RedisError:
            log.warning("page cache: Redis unavailable, serving uncached", exc_info=True)
            return None
        return [value.decode() for value in values]

    def joined_tokens(self, user_id: int, org_id: int, related: tuple[int, ...]) -> tuple[str, str, str] | None:
        """The tokens of the user and the organization, and those of ``related`` joined by spaces, in one
        round trip; created when missing. None without Redis."""
        if self._redis is None:
            return None
        found = None
        if len(related) <= JOINED_MAX:
            try:
                found = self._execute_joined(user_id, org_id, related)
            except redis.ResponseError:
                # Scripts refused (a Redis without Lua, a limit): the plain MGET below does the same.
                log.warning("page cache: the token script failed, reading the tokens one by one", exc_info=True)
            except redis.RedisError:
                log.warning("page cache: Redis unavailable, serving uncached", exc_info=True)
                return None
        if found is None:
            # A token is missing (the script answers nothing then) and is created here.
            values = self.tokens_of([(USER, user_id), (ORG, org_id), *((ORG, other) for other in related)])
            return None if values is None else (values[0], values[1], " ".join(values[2:]))
        user, org, others = (value.decode() for value in found)
        return user, org, others

    def _execute_joined(self, user_id: int, org_id: int, related: tuple[int, ...]) -> list[bytes] | None:
        assert self._redis is not None
        packed = self._packed.get(org_id)
        if packed is None or packed[0] != related:
            if len(self._packed) >= 10_000:
                self._packed.clear()
            packed = (related, b"".join(_bulk(self._token_key((ORG, other)).encode()) for other in related))
            self._packed[org_id] = packed
        head = [b"EVALSHA", _JOINED_SHA.encode(), str(2 + len(related)).encode()]
        head += [self._token_key((USER, user_id)).encode(), self._token_key((ORG, org_id)).encode()]
        command = b"*%d\r\n" % (len(head) + len(related)) + b"".join(map(_bulk, head)) + packed[1]
        pool = self._redis.connection_pool
        for attempt in (1, 2):
            connection = pool.get_connection()
            try:
                connection.send_packed_command([command], check_health=False)
                return connection.read_response()
            except redis.exceptions.NoScriptError:
                if attempt == 2:
                    raise
            except (redis.ConnectionError, redis.TimeoutError):
                connection.disconnect()
                raise
            finally:
                pool.release(connection)
            self._redis.script_load(_JOINED)
        return None

    def get(self, key: str) -> bytes | None:
        if self._redis is None:
            return None
        local = self._local.get(key)
        now = time.monotonic()
        if local is not None and local[0] > now:
            self._local.move_to_end(key)
            return local[1]
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(key)
                pipe.pttl(key)
                body, ttl_ms = pipe.execute()
        except redis.RedisError:
            log.warning("page cache: Redis unavailable, serving uncached", exc_info=True)
            return None
        if body is not None and ttl_ms > 0:
            self._remember(key, body, now + ttl_ms / 1000)
        return body

    def put(self, key: str, body: bytes) -> None:
        if self._redis is None:
            return
        try:
            self._redis.set(key, body, ex=PAGE_TTL)
        except redis.RedisError:
            log.warning("page cache: could not store a page", exc_info=True)
            return
        self._remember(key, body, time.monotonic() + PAGE_TTL)

    def replace_tokens(self, targets: Iterable[Target]) -> None:
        if self._redis is None:
            return
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for target in targets:
                    pipe.set(self._token_key(target), secrets.token_hex(8), ex=TOKEN_TTL)
                pipe.execute()
        except redis.RedisError:
            log.error("page cache: could not replace version tokens %s", sorted(targets), exc_info=True)

    def request_key(self, org_id: int) -> str | None:
        """The cache key of the current request's page in ``org_id``; None when it may not be cached.

        Only a logged-in session that already holds its CSRF secret and has no messages waiting:
        the first request of a session writes both into it, a flashed message is shown once.
        """
        found = self.request_key_with_tokens(org_id)
        return None if found is None else found[0]

    def request_key_with_tokens(self, org_id: int, related: tuple[int, ...] = ()) -> tuple[str, list[str]] | None:
        """``request_key`` for a page that also shows the organizations ``related`` (a consultancy's
        portfolio shows its clients): their tokens are in the key too. Returns the key and the tokens
        read (the user's, the organization's, then the related ones' joined by spaces), in one round trip
        to Redis."""
        if self._redis is None or request.method != "GET":
            return None
        ident = session.get(USER_KEY)
        csrf_secret = session.get(CSRF_KEY)
        if not ident or not csrf_secret or FLASHES_KEY in session:
            return None
        user_id, _, _token = str(ident).partition(":")
        if not user_id.isdigit():
            return None
        if related:
            joined = self.joined_tokens(int(user_id), org_id, related)
            tokens = None if joined is None else list(joined)
        else:
            tokens = self.tokens_of([(USER, int(user_id)), (ORG, org_id)])
        if tokens is None:
            return None
        now = utcnow()
        parts = (
            # Pages say how long ago things happened and what is overdue, by the organization's calendar:
            # its day starts at a full or a quarter hour of UTC, so a cached page lives within one quarter.
            f"{now:%Y-%m-%dT%H}:{now.minute // 15}",
            ident,
            tokens[0],
            str(org_id),
            tokens[1],
            csrf_secret,
            request.full_path,
            session.get("locale", ""),
            request.headers.get("Accept-Language", ""),
            ",".join(map(str, related)),
            *tokens[2:],
        )
        digest = hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()
        return f"{self.prefix}page:{digest}", tokens


page_cache = PageCache()


def compressed_response(stored: bytes, may_compress: bool) -> Response:
    """A page stored by ``compression.gzipped``: sent gzip-encoded when ``may_compress`` and the browser accepts it,
    else decompressed here.

    Only the caller knows whether the page may go out compressed: a compressed page that reflects text from
    the request (a search term, any query string) next to a secret (the CSRF token) tells an observer of
    its length, request by request, how well a guess matches the secret (BREACH)."""
    if may_compress and request.accept_encodings["gzip"] > 0:
        response = Response(stored, content_type="text/html; charset=utf-8")
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(gzip.decompress(stored), content_type="text/html; charset=utf-8")
    response.vary.add("Accept-Encoding")
    return response


def _bulk(value: bytes) -> bytes:
    """One argument of a Redis command in the protocol's encoding."""
    return b"$%d\r\n%s\r\n" % (len(value), value)


def changed(session: Session, target: Target) -> None:
    """For changes the unit of work does not see (bulk updates): replace the token now and after commit."""
    if not page_cache.enabled:
        return
    page_cache.replace_tokens([target])
    session.info.setdefault(PENDING_KEY, set()).add(target)


def _targets_of(session: Session, objects: Iterable[Any]) -> set[Target]:
    targets: set[Target] = set()
    renamed: list[int] = []
    renamed_people: list[int] = []
    for obj in objects:
        if isinstance(obj, User) and obj.id is not None:
            targets.add((USER, obj.id))
            if inspect(obj).attrs.name.history.has_changes():
                renamed_people.append(obj.id)
        elif isinstance(obj, Membership) and obj.user_id is not None:
            targets.add((USER, obj.user_id))
            history = inspect(obj).attrs.user_id.history
            targets.update((USER, old) for old in history.deleted or () if old is not None)
            # A cycle's page names who may decide: the organization's members and their roles.
            if obj.organization_id is not None:
                targets.add((ORG, obj.organization_id))
        elif isinstance(obj, Organization) and obj.id is not None:
            targets.add((ORG, obj.id))
            renamed.append(obj.id)
        elif isinstance(obj, tenancy.TenantScoped) and obj.organization_id is not None:
            # Every row an organization owns shows on one of its cached pages (the dashboard its trend and
            # backlog, a cycle's page the cycle, its measurements, steps, costs, rollout and neighbours):
            # any change to one is a new version of them all, never a stale page.
            targets.add((ORG, obj.organization_id))
        elif isinstance(obj, ClientAccess) and obj.client_id is not None:
            # A revoked consultant's cached client pages carry the client's token: the next request misses,
            # resolves again and answers 404. The consultancy's token keys its portfolio.
            targets.update(((ORG, obj.client_id), (ORG, obj.consultancy_id)))
    with session.no_autoflush:
        if renamed:
            # Every member's switcher names the organization, on all of their organizations' pages.
            targets.update((USER, user_id) for user_id in memberships.user_ids(session, renamed))
        for user_id in renamed_people:
            # A cycle's page names its owner and sponsor, in each organization they belong to.
            targets.update((ORG, org_id) for org_id in memberships.organization_ids(session, user_id))
    return targets


def _bulk_statement(state: ORMExecuteState) -> None:
    """``update(TrendState)`` and other bulk statements on an organization's rows bypass the unit of work; the
    tenant names the organization."""
    if not page_cache.enabled or not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    bulk = mapper is not None and issubclass(mapper.class_, tenancy.TenantScoped)
    if bulk and (org_id := tenancy.current_org_id()) is not None:
        changed(state.session, (ORG, org_id))


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if not page_cache.enabled:
        return
    changed_objects = [o for o in session.dirty if session.is_modified(o)]
    # Collected before the flush: a deleted organization's memberships are gone after it.
    targets = _targets_of(session, [*session.new, *changed_objects, *session.deleted])
    if targets:
        session.info.setdefault(FLUSHING_KEY, set()).update(targets)


def _after_flush(session: Session, _context: Any) -> None:
    targets = session.info.pop(FLUSHING_KEY, None)
    if targets:
        page_cache.replace_tokens(targets)
        session.info.setdefault(PENDING_KEY, set()).update(targets)


def _after_commit(session: Session) -> None:
    targets = session.info.pop(PENDING_KEY, None)
    if targets:
        page_cache.replace_tokens(targets)


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(FLUSHING_KEY, None)


def install_invalidation_hooks(factory: sessionmaker[Any]) -> None:
    """On every session of the platform, web and workers alike; safe to call once per app."""
    if event.contains(factory, "after_commit", _after_commit):
        return
    event.listen(factory, "do_orm_execute", _bulk_statement)
    event.listen(factory, "before_flush", _before_flush)
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_rollback", _after_rollback)
