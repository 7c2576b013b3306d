"""The list page a web request asks for (``?page=``); ``paging`` is the domain side, without Flask."""

from __future__ import annotations

from flask import abort, request

from engpass.paging import page_number


def requested_page() -> int:
    """The page the request's ``page`` parameter asks for; 404 for anything but a page number, as for an
    address that does not exist."""
    number = page_number(request.args.get("page"))
    if number is None:
        abort(404)
    return number
