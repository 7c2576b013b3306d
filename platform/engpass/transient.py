"""Errors that pass by themselves — the database, the broker or the cache restarting or failing over — and how
long a task waits before it tries again.

A task that retries only these, and only for as long as such an outage lasts, lets a programming error fail at
once (its traceback in the log, the mail left to the resend sweep) instead of repeating it for half an hour.
"""

from __future__ import annotations

import kombu.exceptions
import redis
from sqlalchemy import exc as sa_exc

_TRANSIENT: tuple[type[BaseException], ...] = (
    # psycopg's OperationalError: the server refused or dropped the connection, shut down, or cancelled a
    # statement; InterfaceError: the connection was already closed.
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    redis.ConnectionError,
    redis.TimeoutError,
    kombu.exceptions.OperationalError,
    ConnectionError,
    TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says a server is away for now, rather than that the code or the data is wrong."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, _TRANSIENT)


def backoff(retries: int, base: int, cap: int) -> int:
    """Seconds before retry number ``retries + 1``: ``base`` doubled with every retry, at most ``cap``."""
    return min(cap, base * 2**retries)


def span(retries: int, base: int, cap: int) -> int:
    """Seconds from the first failure to the last retry: how long an outage may last before work is given up."""
    return sum(backoff(n, base, cap) for n in range(retries))
