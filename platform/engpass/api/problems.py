"""Every error under ``/api/v1`` as ``application/problem+json`` (RFC 9457).

``type`` is a stable reference to the problem's explanation on the API's docs page; ``title``
names the kind of problem, ``detail`` this occurrence in the request's language, and
validation problems carry ``errors``: one entry per field with its JSON pointer into the body
(or the query parameter's name) and a message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from flask import current_app, g, json, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from engpass.organizations.permissions import DESCRIPTIONS, Action

API_PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"
DOCS_PATH = "/api/v1/docs"

# The kinds of problem the API names; each has an entry on the docs page (templates/api/docs.html).
KINDS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "rule-violation",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
}
# Kinds beside the one of their status, by status: every kind the docs page explains.
IMPLAUSIBLE = "implausible"
PROBLEM_KINDS = sorted([*KINDS.items(), (409, IMPLAUSIBLE)])


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem_type(kind: str) -> str:
    return f"{DOCS_PATH}#problem-{kind}"


class ApiProblem(HTTPException):
    """An error the API answers with its own detail and, for invalid input, the fields' errors."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description=detail)
        self.code = status
        self.kind = kind or KINDS.get(status)
        self.errors = errors
        self.extra_headers = dict(headers or {})


def field_error(field: str, message: str, *, location: str = "body") -> dict[str, Any]:
    entry: dict[str, Any] = {"field": field, "in": location, "message": str(message)}
    if location == "body":
        parts = [part.replace("~", "~0").replace("/", "~1") for part in field.split(".")] if field else []
        entry["pointer"] = "#" + "".join("/" + part for part in parts)
    return entry


def invalid(field: str, message: str, *, location: str = "body") -> ApiProblem:
    """A 422 for one field, with the same shape as the schema's own validation errors."""
    return ApiProblem(
        422, _("The request has invalid fields."), errors=[field_error(field, message, location=location)]
    )


def implausible(doubts: Sequence[Any]) -> ApiProblem:
    """A 409 naming each figure that looks like a typing error (``cycles.plausibility``); sending the
    request again with ``confirm_implausible: true`` saves it. Not a 422: the body fits the document, and
    whether a cost counts the hours twice depends on the organization's rate."""
    return ApiProblem(
        409,
        _("Some figures look implausible. If they are right, send them again with confirm_implausible: true."),
        kind=IMPLAUSIBLE,
        errors=[field_error(doubt.field, doubt.message) for doubt in doubts],
    )


def rule_violation(problems: list[Any], field: str = "stage") -> ApiProblem:
    """The method's rules refused (the UI shows the same messages): 409, nothing was saved."""
    messages = [str(p) for p in problems]
    # What is missing is named by the field the request was about; it need not be in the body.
    errors = [{"field": field, "in": "body", "message": message} for message in messages]
    return ApiProblem(409, " ".join(messages), kind="rule-violation", errors=errors)


def _flatten(messages: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """marshmallow's nested error dict as (dotted field, message) pairs."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            yield from _flatten(value, path if key == "_schema" else (*path, str(key)))
    elif isinstance(messages, list | tuple):
        for value in messages:
            yield from _flatten(value, path)
    else:
        yield ".".join(path), str(messages)


def _validation_errors(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    errors = []
    for location, messages in (data.get("messages") or {}).items():
        where = "body" if location == "json" else location
        errors.extend(field_error(field, message, location=where) for field, message in _flatten(messages))
    return errors


def _forbidden_detail() -> str:
    view = current_app.view_functions.get(request.endpoint or "")
    permissions = getattr(view, "permissions", {})
    # As require_permission decides: other writing methods than POST ask the POST action.
    action = permissions.get(request.method, permissions.get("POST"))
    membership = g.get("membership")
    if action is None or membership is None:
        return _("Your role does not allow this.")
    return _(
        "Your role (%(role)s) does not allow this: %(action)s.",
        role=membership.role.value,
        action=DESCRIPTIONS[Action(action)],
    )


DETAILS = {
    400: lambda: _("The request could not be read."),
    401: lambda: _("Send a valid personal access token: Authorization: Bearer <token>."),
    403: _forbidden_detail,
    404: lambda: _("Nothing here, or not in your organization."),
    405: lambda: _("This address does not accept this method."),
    413: lambda: _("The request body is too large."),
    415: lambda: _("Send the body as JSON (Content-Type: application/json)."),
    429: lambda: _("Too many requests with this token. Try again later."),
}


def problem_response(error: HTTPException) -> Response:
    """The problem document for any HTTP error under ``/api/``."""
    status = error.code or 500
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": _("Something went wrong on our side. Please try again later."),
        "instance": request.path,
    }
    headers: dict[str, str] = {}
    kind = KINDS.get(status)
    if isinstance(error, ApiProblem):
        kind = error.kind
        body["detail"] = error.description
        if error.errors is not None:
            body["errors"] = error.errors
        headers.update(error.extra_headers)
    elif status == 422 or (status == 400 and getattr(error, "data", None)):
        # webargs: the body or the query did not pass the schema, or the JSON could not be parsed.
        body["detail"] = _("The request has invalid fields.") if status == 422 else _("The body is not valid JSON.")
        body["errors"] = _validation_errors(getattr(error, "data", None) or {})
    elif status in DETAILS:
        body["detail"] = DETAILS[status]()
    if kind is not None:
        body["type"] = problem_type(kind)
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE, headers=headers)
    if not isinstance(error, ApiProblem):
        # What werkzeug's exception says besides its HTML body, such as the Allow header of a 405.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers.setdefault(name, value)
    return response
