"""The pages answered whole from the page cache (``engpass.page_cache``), before any query: the two that
people open most, the dashboard and a cycle's page.

An app-level ``before_request`` looks the page up under the key the session, the path, the day and the
version tokens of the user and of the organization form; on a miss the view renders the page and hands it
to ``store_page``. Every change to the organization's rows, to its members or to the people its pages
name replaces the organization's token (``page_cache``), so a page is never served after something it
shows changed.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from engpass.compression import gzipped, page_may_be_compressed, page_token
from engpass.gateway.web import cached_page_org_id
from engpass.page_cache import compressed_response, page_cache

ENDPOINTS = frozenset({"organizations.home", "cycles.show"})
STORED_GZIP = ":gz"


def init_app(app: Flask) -> None:
    app.before_request(serve_cached_page)


def serve_cached_page() -> Response | None:
    """A session that saw the page and whose data has not changed since gets the same page again."""
    if request.endpoint not in ENDPOINTS:
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
