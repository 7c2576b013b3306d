"""HTML and JSON answers compressed with brotli or gzip, whichever the client accepts (Flask-Compress).

Left as they are: answers under ``MIN_SIZE`` (compressing them costs more than it saves), answers that are
not 2xx, answers a view already encoded (the portfolio's stored gzip page, the static files' gzip copies),
streamed answers, and every other type — ZIP, PDF, XLSX, CSV and images are files that are compressed
already or downloaded once, and go out byte for byte as the view made them.

An HTML page goes out compressed only when nothing in its address can be chosen by someone else: no query
string, and no part of the path but the organization's slug and numbers. A compressed page that reflects
attacker-chosen text next to a secret lets whoever watches the encrypted length guess the secret piece by
piece (BREACH); every page reflects its address in the language form's ``next``, beside the CSRF token.
Such pages go out uncompressed, as all pages did before. JSON has no such neighbour: the API's answers are
for a bearer token, which no other site can make a browser send.
"""

from __future__ import annotations

from flask import Flask, request
from flask_compress import Compress
from werkzeug.wrappers import Response

MIMETYPES = ("text/html", "application/json", "application/problem+json")
MIN_SIZE = 500

compress = Compress()


def init_app(app: Flask) -> None:
    app.config.update(
        COMPRESS_MIMETYPES=list(MIMETYPES),
        # brotli first: smaller than gzip at the same CPU at this level; every current browser sends both.
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=4,
        COMPRESS_LEVEL=6,
        COMPRESS_MIN_SIZE=MIN_SIZE,
        COMPRESS_STREAMS=False,
        # Registered below, behind the check of the address.
        COMPRESS_REGISTER=False,
    )
    compress.init_app(app)
    app.after_request(_compress)


def _compress(response: Response) -> Response:
    if response.mimetype == "text/html" and not address_reflects_nothing():
        return response
    return compress.after_request(response)


def address_reflects_nothing() -> bool:
    """Whether the request's address is fixed by its route: no query string, and only numbers among the path's
    values (an organization page's slug is not among them: it has to name an organization of the user's for
    the page to answer at all)."""
    if request.query_string:
        return False
    return all(isinstance(value, int) for value in (request.view_args or {}).values())
