"""The API's keyset pages in documents: a list's query arguments (limit, cursor) and the page around its
items; each list adds its own cursor and filters, and its items."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

PAGE_LIMIT_DEFAULT = 50
PAGE_LIMIT_MAX = 200
CURSOR_MAX = 200

# What api/paging.py hands out: base64url without padding.
CURSOR_PATTERN = f"^[A-Za-z0-9_-]{{1,{CURSOR_MAX}}}$"


def cursor(kind: str) -> fields.String:
    """A list's cursor: its format names the list whose ``next_cursor`` it must be (another is a 422)."""
    return fields.String(
        validate=validate.Regexp(CURSOR_PATTERN),
        metadata={
            "format": f"{kind}-cursor",
            "pattern": CURSOR_PATTERN,
            "description": f"The `next_cursor` of the previous page of {kind}s, as it was handed out.",
        },
    )


class PageArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(
        load_default=PAGE_LIMIT_DEFAULT,
        validate=validate.Range(min=1, max=PAGE_LIMIT_MAX),
        metadata={"description": f"Items per page (at most {PAGE_LIMIT_MAX})."},
    )


class PageSchema(Schema):
    limit = fields.Integer(required=True)
    next_cursor = fields.String(required=True, allow_none=True, metadata={"description": "null on the last page."})
    next = fields.String(required=True, allow_none=True, metadata={"description": "The next page's URL."})
