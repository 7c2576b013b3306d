"""Ids in addresses are bounded where the URL is parsed.

Every id column is PostgreSQL's ``integer``: a larger number in an address can name nothing, and
asking the database for it is an error there (and an overflow in SQLite), not a missing row.
Replacing the ``int`` converter bounds every ``<int:…>`` rule, web and API, at routing: such an
address is a 404 before a view or the database sees it.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import IntegerConverter, Map

ID_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """``int`` up to ``ID_MAX``, in ASCII digits (``\\d`` would also match other scripts' digits)."""

    regex = r"[0-9]+"

    def __init__(
        self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = ID_MAX, signed: bool = False
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def _not_found_unless_the_address_exists() -> None:
    """A 405 only where the address exists for another method. werkzeug compares a rule's methods before
    its converters: ``PATCH /cycles/<too large>`` met the ``GET`` rule of the path first and was a 405."""
    error = request.routing_exception
    if not isinstance(error, MethodNotAllowed):
        return
    adapter = current_app.create_url_adapter(request)
    for method in error.valid_methods or ():
        try:
            adapter.match(method=method)  # type: ignore[union-attr]
        except HTTPException:
            continue
        return
    raise NotFound()


def install(app: Flask) -> None:
    """Before any route is added: rules pick their converter when they are bound to the map."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_not_found_unless_the_address_exists)
