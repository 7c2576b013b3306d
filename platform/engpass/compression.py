"""HTML and JSON answers compressed when the client accepts it, errors included: JSON with brotli or gzip, HTML
with gzip and the CSRF token outside the compression.

Left as they are: answers under ``MIN_SIZE`` (compressing them costs more than it saves), answers a view
already encoded (the page cache's stored gzip pages, the static files' gzip copies), streamed answers and
files sent as they are, and every other type — ZIP, PDF, XLSX, CSV and images are files that are compressed
already or downloaded once, and go out byte for byte as the view made them.

A compressed page that reflects attacker-chosen text next to a secret lets whoever watches the encrypted
length guess the secret piece by piece (BREACH); every page reflects its address in the language form's
``next``, beside the CSRF token. An attack needs thousands of requests that the victim's browser makes with
its cookie at the attacker's bidding, which a foreign site can only make cross-site. So a page goes out
compressed only when its address reflects nothing a third party could choose (``address_reflects_nothing``),
or when the browser says that our own pages or the user asked for it (``fetched_from_inside``). Either way
the CSRF token stays out of the compression (``gzipped``), which brotli cannot do: its history cannot be
started afresh in the middle of a stream, so pages are sent gzip only.

JSON has no such neighbour: the API's answers are for a bearer token, which no other site can make a browser
send.
"""

from __future__ import annotations

import re
import struct
import zlib

import brotli
from flask import Flask, current_app, g, request
from werkzeug.wrappers import Response

HTML = "text/html"
JSON = frozenset({"application/json", "application/problem+json"})
MIN_SIZE = 500
GZIP_LEVEL = 6
BROTLI_LEVEL = 4
# Query parameters that are numbers wherever a page takes them (the lists' page, the audit log's actor, the
# portfolio's level and its switches). Only these: a parameter's name is reflected as well, so a name of the
# requester's choosing is chosen text, whatever its value.
NUMBER_PARAMETERS = frozenset({"page", "actor", "level", "overdue", "consultants"})
_NUMBERS_ONLY = re.compile(rb"[a-z_]+=[0-9]{1,6}(?:&[a-z_]+=[0-9]{1,6})*")
# What a browser sends in Sec-Fetch-Site for a request that our own pages or the user made (the address bar, a
# bookmark); no page can set the header, and a redirect chain that passed through another site is cross-site.
INSIDE = frozenset({"same-origin", "none"})


def init_app(app: Flask) -> None:
    app.after_request(_compress)


def _compress(response: Response) -> Response:
    if response.mimetype == HTML:
        return _compress_page(response)
    if response.mimetype in JSON:
        response.vary.add("Accept-Encoding")
        encoding = request.accept_encodings.best_match(("br", "gzip"))
        if encoding is not None and _compressible(response):
            body = response.get_data()
            packed = brotli.compress(body, quality=BROTLI_LEVEL) if encoding == "br" else gzipped(body)
            _encode(response, encoding, packed)
    return response


def _compress_page(response: Response) -> Response:
    response.vary.add("Accept-Encoding")
    fixed = address_reflects_nothing()
    if not fixed:
        response.vary.add("Sec-Fetch-Site")
    if (fixed or fetched_from_inside()) and request.accept_encodings["gzip"] > 0 and _compressible(response):
        _encode(response, "gzip", gzipped(response.get_data(), hidden=page_token()))
    return response


def _compressible(response: Response) -> bool:
    if response.is_streamed or response.direct_passthrough or "Content-Encoding" in response.headers:
        return False
    return len(response.get_data()) >= MIN_SIZE


def _encode(response: Response, encoding: str, body: bytes) -> None:
    response.set_data(body)
    response.headers["Content-Encoding"] = encoding


def address_reflects_nothing() -> bool:
    """Whether the request's address is fixed by its route: a route matched, only numbers among the path's
    values, the organization's slug (popped from them) one the session entered, and a query string of
    ``NUMBER_PARAMETERS`` with digits only, if any.

    The slug of an organization page that answered has to name an organization of the user's; an error page's
    slug may be anything until the gateway entered it (``g.org_slug_entered``, set by ``gateway.web``)."""
    if request.url_rule is None:
        return False
    if request.query_string and not _numbers_only(request.query_string):
        return False
    if g.get("org_slug") is not None and not g.get("org_slug_entered"):
        return False
    return all(isinstance(value, int) for value in (request.view_args or {}).values())


def _numbers_only(query_string: bytes) -> bool:
    if not _NUMBERS_ONLY.fullmatch(query_string):
        return False
    names = (pair.partition(b"=")[0].decode() for pair in query_string.split(b"&"))
    return all(name in NUMBER_PARAMETERS for name in names)


def fetched_from_inside() -> bool:
    """Whether the browser says that one of our pages or the user made the request (``Sec-Fetch-Site``); an
    older browser that sends no such header counts as a foreign site's."""
    return request.headers.get("Sec-Fetch-Site", "") in INSIDE


def page_may_be_compressed() -> bool:
    """Whether an HTML page for this request may go out compressed (see the module's text)."""
    return address_reflects_nothing() or fetched_from_inside()


def page_token() -> bytes:
    """The CSRF token the request's page carries in its forms, empty when it rendered none."""
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), "")
    return str(token).encode()


def gzipped(body: bytes, hidden: bytes = b"") -> bytes:
    """``body`` gzip-compressed, every occurrence of ``hidden`` (a page's CSRF token) left uncompressed.

    Each occurrence is a stored block of its own, and the compressor starts afresh after it: nothing before or
    after can refer to it, so the compressed length is the same whatever its value, and text on the page that
    resembles it shortens nothing (BREACH).
    """
    stretches = body.split(hidden) if hidden and len(hidden) <= 0xFFFF else [body]
    deflated = []
    for index, stretch in enumerate(stretches):
        if index:
            # A stored block (BFINAL 0, BTYPE 00, byte-aligned): LEN, its complement, the bytes as they are.
            deflated.append(struct.pack("<BHH", 0, len(hidden), 0xFFFF ^ len(hidden)) + hidden)
        # Raw deflate with a fresh history for every stretch; a full flush ends each on a byte boundary.
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        last = index == len(stretches) - 1
        deflated.append(compressor.compress(stretch) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH))
    # The gzip header (no name, no time, OS unknown), the deflate stream, CRC-32 and length.
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + b"".join(deflated) + struct.pack("<II", zlib.crc32(body), len(body) & 0xFFFFFFFF)
