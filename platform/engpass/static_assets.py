"""Static files: a hash of their content in every URL the app writes, cached by browsers for a year, and
the text ones (CSS, JavaScript, SVG) sent gzip-compressed when the browser accepts it.

``url_for('static', filename=...)`` gains ``v=<hash>`` by itself, so templates need no change; a file that
changes gets a new URL, which is what lets the old one be cached for good ("immutable"). A request without
the current hash (an old page, a hand-typed address) gets the file revalidated on every use instead.

The compressed copies are made once per file version, in memory: the static folder is small and fixed, and
static files reflect nothing of the request, so compressing them leaks nothing (unlike pages: BREACH).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request

VERSION_ARG = "v"
ONE_YEAR = 365 * 24 * 3600
COMPRESSIBLE = frozenset({".css", ".js", ".svg"})


@lru_cache(maxsize=256)
def _digest(path: Path, mtime_ns: int, size: int) -> tuple[str, bytes | None]:
    """The file's version and, for text files, its gzip copy; cached per path, modification time and size."""
    data = path.read_bytes()
    version = hashlib.sha256(data).hexdigest()[:16]
    packed = gzip.compress(data, compresslevel=9, mtime=0) if path.suffix in COMPRESSIBLE else None
    return version, packed


def _file(folder: str, filename: str) -> Path | None:
    """``filename`` inside the static folder, or None for anything else (missing, a folder, outside it)."""
    root = Path(folder).resolve()
    path = (root / filename).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def _found_in(folder: str, filename: str) -> tuple[str, bytes | None] | None:
    path = _file(folder, filename)
    if path is None:
        return None
    stat = path.stat()
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def _version_and_gzip(filename: str) -> tuple[str, bytes | None] | None:
    return _found_in(current_app.static_folder or "", filename)


@lru_cache(maxsize=256)
def _deployed_version(folder: str, filename: str) -> str | None:
    found = _found_in(folder, filename)
    return None if found is None else found[0]


def _add_version(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint != "static" or VERSION_ARG in values or "filename" not in values:
        return
    if current_app.debug:
        # A developer edits the files while the server runs: each link looks at the file as it is now.
        found = _version_and_gzip(values["filename"])
        version = None if found is None else found[0]
    else:
        # Deployed files change only with a deploy, which starts new processes: a page's links to them take
        # the version found once, not a path resolution and a stat each.
        version = _deployed_version(current_app.static_folder or "", values["filename"])
    if version is not None:
        values[VERSION_ARG] = version


def _serve(filename: str) -> Response:
    found = _version_and_gzip(filename)
    current = found is not None and request.args.get(VERSION_ARG) == found[0]
    packed = found[1] if found is not None else None
    if packed is not None and request.accept_encodings["gzip"]:
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        response = Response(packed, mimetype=mimetype)
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag(f"{found[0]}-gzip")  # type: ignore[index]
        response = response.make_conditional(request)
    else:
        response = current_app.send_static_file(filename)
    if packed is not None:
        response.vary.add("Accept-Encoding")
    if current:
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
        response.cache_control.no_cache = None
    else:
        response.cache_control.no_cache = True
        response.cache_control.max_age = None
    return response


def init_app(app: Flask) -> None:
    app.url_defaults(_add_version)
    app.view_functions["static"] = _serve
