"""The API's blueprint and the one decorator every operation goes through."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Request, abort, request
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser

from engpass.api.auth import authenticate, rate_limited
from engpass.organizations.models import Role
from engpass.organizations.permissions import MATRIX, Action, require_permission

F = TypeVar("F", bound=Callable[..., Any])

API_PREFIX = "/api/v1"
BODY_METHODS = ("POST", "PUT", "PATCH")
# The operations that take a file, as multipart/form-data, instead of JSON.
MULTIPART_ENDPOINTS = frozenset({"api.import_measurements"})


class BodyParser(FlaskParser):
    """webargs' parser, for which JSON nested deeper than Python's recursion limit is invalid JSON (a 400
    problem like any other unreadable body) instead of a RecursionError."""

    def _raw_load_json(self, req: Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            # With an empty document webargs would take the body as missing.
            raise json.JSONDecodeError("Nested too deeply.", req.get_data(as_text=True), 0) from None


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = BodyParser()


bp = ApiBlueprint(
    "api",
    __name__,
    url_prefix=API_PREFIX,
    description="Engpass API v1: cycles, measurements, business cases, bottleneck candidates, dashboard and maturity.",
)


@bp.before_request
def _authenticate_and_check_body() -> None:
    authenticate()
    # Refused before anything reads the body: webargs would treat a form post as an empty document.
    if request.method in BODY_METHODS and not request.is_json:
        if request.endpoint in MULTIPART_ENDPOINTS and request.mimetype == "multipart/form-data":
            return
        abort(415)


def endpoint(
    rule: str,
    method: str,
    action: Action,
    *,
    tag: str,
    errors: tuple[int, ...] = (),
) -> Callable[[F], F]:
    """Register one operation: the route, the token's rate limit, the permission matrix's ``action``
    (the same as the web's page for it), and the problems it can answer, for the OpenAPI document."""

    statuses = {400, 401, 429, *errors}
    if MATRIX[action] != frozenset(Role):
        statuses.add(403)
    if "<" in rule:
        statuses.add(404)
    if method in BODY_METHODS:
        statuses.update({413, 415, 422})

    def decorator(view: F) -> F:
        wrapped: Any = rate_limited(require_permission(action)(view))
        for status in sorted(statuses, reverse=True):
            wrapped = bp.alt_response(status, response=HTTPStatus(status).name)(wrapped)
        # Stable names for code generators and Power Automate's custom connectors.
        wrapped = bp.doc(operationId=view.__name__)(wrapped)
        bp.route(rule, methods=[method], tags=[tag])(wrapped)
        return wrapped

    return decorator
