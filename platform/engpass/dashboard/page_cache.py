"""The dashboard's two caches: the whole page per session (``engpass.page_cache``, before any query) and
the part below the page head per version of the organization's data (Flask-Caching)."""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Response, g, request

from engpass.extensions import cache
from engpass.gateway.web import cached_page_org_id
from engpass.page_cache import page_cache

log = logging.getLogger(__name__)

ENDPOINT = "organizations.home"


def serve_cached_page() -> Response | None:
    """An app-level ``before_request``: the dashboard is the page opened most; a session that saw it and
    whose data has not changed since gets the same page again without a single query."""
    if request.endpoint != ENDPOINT:
        return None
    org_id = cached_page_org_id()
    if org_id is None:
        return None
    key = page_cache.request_key(org_id)
    if key is None:
        return None
    g.page_key, g.page_org_id = key, org_id
    body = page_cache.get(key)
    if body is None:
        return None
    return Response(body, content_type="text/html; charset=utf-8")


def store_page(org_id: int, page: str) -> None:
    """Keep the page rendered on a miss under the key ``serve_cached_page`` formed, if the slug still
    names the organization it was formed for."""
    if g.get("page_org_id") == org_id:
        page_cache.put(g.page_key, page.encode())


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
