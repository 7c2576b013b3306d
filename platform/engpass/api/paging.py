"""Keyset pages: a list is ordered by a unique key, and the cursor is the last row's key, opaque.

Unlike an offset, a cursor stays right while rows are added or deleted between two pages, and
the database seeks to it through the index instead of counting past the rows before it.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flask import request, url_for
from flask_babel import gettext as _

from engpass.api.problems import invalid


def encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, length: int) -> list[Any]:
    """The key a cursor holds; a 422 on ``cursor`` for anything this API did not hand out."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        key = None
    if not isinstance(key, list) or len(key) != length:
        raise invalid(
            "cursor", _("This cursor is not valid. Use the next_cursor of the previous page."), location="query"
        )
    return key


def page(items: list[Any], limit: int, next_key: list[Any] | None) -> dict[str, Any]:
    """The page document; the next page's URL repeats the request's filters with the new cursor."""
    next_cursor = encode(next_key) if next_key is not None else None
    next_url = None
    if next_cursor is not None:
        values: dict[str, Any] = request.args.to_dict()
        values.update(limit=limit, cursor=next_cursor)
        next_url = url_for(request.endpoint or "", **(request.view_args or {}), **values, _external=True)
    return {"items": items, "limit": limit, "next_cursor": next_cursor, "next": next_url}
