"""The dashboard's two caches: the whole page per session (``engpass.page_cache``, before any query, stored
gzip-compressed) and the part below the page head per version of the organization's data (Flask-Caching)."""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Response, g, request

from engpass.compression import gzipped, page_may_be_compressed, page_token
from engpass.extensions import cache
from engpass.gateway.web import cached_page_org_id
from engpass.page_cache import compressed_response, page_cache

log = logging.getLogger(__name__)

ENDPOINT = "organizations.home"
STORED_GZIP = ":gz"


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
    # Stored gzip-compressed under a key of its own: a page stored plain by an earlier release (Redis is
    # shared during a deploy) is never read as gzip, nor the other way round.
    key += STORED_GZIP
    g.page_key, g.page_org_id = key, org_id
    stored = page_cache.get(key)
    if stored is None:
        return None
    # Sent as stored to browsers that take gzip, without compressing it on every visit.
    return compressed_response(stored, may_compress=page_may_be_compressed())


def store_page(org_id: int, page: str) -> None:
    """Keep the page rendered on a miss, gzip-compressed with the CSRF token outside the compression, under
    the key ``serve_cached_page`` formed, if the slug still names the organization it was formed for."""
    if g.get("page_org_id") == org_id:
        page_cache.put(g.page_key, gzipped(page.encode(), hidden=page_token()))


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
