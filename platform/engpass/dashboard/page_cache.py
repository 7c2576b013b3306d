"""The dashboard's part below the page head, cached per version of the organization's data (Flask-Caching);
the whole page is cached per session as well (``engpass.cached_pages``)."""

from __future__ import annotations

import logging
from typing import Any

import redis

from engpass.extensions import cache

log = logging.getLogger(__name__)


def cached_part(key: str) -> dict[str, Any] | None:
    """The cached part, or None when the cache's Redis does not answer: the page is then rendered from the
    database, as after any miss (Flask-Caching raises Redis's errors to the caller)."""
    try:
        return cache.get(key)
    except redis.RedisError:
        log.warning("dashboard cache unavailable, rendering uncached", exc_info=True)
        return None


def store_part(key: str, part: dict[str, Any]) -> None:
    try:
        cache.set(key, part)
    except redis.RedisError:
        log.warning("dashboard cache unavailable, not stored", exc_info=True)
