"""Static files: hashed URLs in the pages, cached for a year under them, gzip-compressed text."""

from __future__ import annotations

import gzip
import hashlib
import re

import pytest

from engpass.settings import REPO_ROOT

STATIC = REPO_ROOT / "platform" / "engpass" / "static"
LINKED = re.compile(r'href="(/static/css/app\.css\?v=([0-9a-f]{16}))"')


def _get(client, url, **headers):
    response = client.get(url, headers=headers)
    body = response.get_data()
    response.close()
    return response, body


def test_pages_link_the_css_under_its_content_hash(client):
    page = client.get("/login").text
    url, version = LINKED.search(page).groups()
    assert version == hashlib.sha256((STATIC / "css" / "app.css").read_bytes()).hexdigest()[:16]
    assert re.search(r'href="/static/favicon\.svg\?v=[0-9a-f]{16}"', page)


@pytest.mark.parametrize("path", ["css/app.css", "css/cycles.css", "js/print-button.js", "favicon.svg"])
def test_the_hashed_url_is_gzipped_and_cached_for_a_year(client, path):
    original = (STATIC / path).read_bytes()
    url = f"/static/{path}?v={hashlib.sha256(original).hexdigest()[:16]}"
    response, body = _get(client, url, **{"Accept-Encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == original
    assert len(body) < len(original)
    assert "Accept-Encoding" in response.headers["Vary"]
    cache = response.cache_control
    assert cache.max_age == 365 * 24 * 3600 and cache.immutable and cache.public and not cache.no_cache

    again, body = _get(client, url, **{"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and body == b""


def test_without_gzip_the_file_comes_as_it_is(client):
    original = (STATIC / "css" / "app.css").read_bytes()
    url = LINKED.search(client.get("/login").text).group(1)
    response, body = _get(client, url)
    assert "Content-Encoding" not in response.headers
    assert body == original
    assert response.cache_control.immutable


@pytest.mark.parametrize("query", ["", "?v=0000000000000000"])
def test_an_unhashed_or_outdated_url_is_revalidated_every_time(client, query):
    response, body = _get(client, f"/static/css/app.css{query}", **{"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and gzip.decompress(body) == (STATIC / "css" / "app.css").read_bytes()
    assert response.cache_control.no_cache and not response.cache_control.immutable


@pytest.mark.parametrize("path", ["../settings.py", "css", "nope.css", "%2e%2e/app.py"])
def test_nothing_outside_the_static_files(client, path):
    response, _body = _get(client, f"/static/{path}", **{"Accept-Encoding": "gzip"})
    assert response.status_code == 404
