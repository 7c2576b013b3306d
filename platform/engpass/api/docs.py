"""The API's reference page, rendered on the server from the generated OpenAPI document.

Our own template, our own stylesheet, no script: the page loads nothing from outside the app
(and needs nothing the content security policy would refuse). Public, like the document itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, render_template
from markupsafe import Markup, escape

from engpass.api.problems import PROBLEM_KINDS

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

METHOD_ORDER = ("get", "post", "patch", "put", "delete")
REF_PREFIX = "#/components/schemas/"


CODE_SPAN = re.compile(r"`([^`]+)`")


@bp.app_template_filter("inline_code")
def inline_code(text: str) -> Markup:
    """The document's `code` spans as <code>, everything else escaped: its only markup we show."""
    return Markup(CODE_SPAN.sub(r"<code>\1</code>", str(escape(text))))


def spec() -> dict[str, Any]:
    return current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def schema_name(ref: str) -> str:
    return ref.removeprefix(REF_PREFIX)


def type_label(schema: Mapping[str, Any]) -> str:
    """A schema in a few words: ``string (date)``, ``Cycle``, ``array of Step``, ``one of a, b``, ``… or null``."""
    if "$ref" in schema:
        return schema_name(schema["$ref"])
    if "anyOf" in schema:
        return " or ".join(type_label(option) for option in schema["anyOf"])
    types = schema.get("type", "any")
    types = types if isinstance(types, list) else [types]
    labels = []
    for kind in types:
        if kind == "array":
            labels.append("array of " + type_label(schema.get("items", {})))
        elif kind == "null":
            continue
        elif "enum" in schema:
            labels.append("one of " + ", ".join(str(v) for v in schema["enum"] if v is not None))
        else:
            labels.append(kind + (f" ({schema['format']})" if "format" in schema else ""))
    label = " or ".join(labels) or "null"
    return label + (" or null" if "null" in types and labels else "")


def constraints(schema: Mapping[str, Any]) -> str:
    """The bounds a value must keep, as the document states them."""
    words = {
        "minimum": "≥",
        "exclusiveMinimum": ">",
        "maximum": "≤",
        "exclusiveMaximum": "<",
        "minLength": "length ≥",
        "maxLength": "length ≤",
        "maxItems": "items ≤",
        "default": "default",
    }
    return ", ".join(f"{label} {schema[key]}" for key, label in words.items() if key in schema)


def operations(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every operation with its path-level parameters merged in, grouped later by tag."""
    found = []
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHOD_ORDER:
            if method not in item:
                continue
            operation = item[method]
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": operation.get("operationId", f"{method}-{path}"),
                    "tag": (operation.get("tags") or ["API"])[0],
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": shared + operation.get("parameters", []),
                    "body": _body(operation.get("requestBody", {}).get("content", {})),
                    "responses": sorted(operation.get("responses", {}).items()),
                }
            )
    return found


def _body(content: Mapping[str, Any]) -> dict[str, Any]:
    """The request body's one media type (JSON, or multipart for a file) and its schema."""
    for media_type, entry in content.items():
        return {"media_type": media_type, "schema": entry.get("schema", {})}
    return {}


def response_schema(document: Mapping[str, Any], response: Mapping[str, Any]) -> tuple[str, str, str]:
    """(description, media type, schema label) of a response or a reference to one."""
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    for media_type, content in response.get("content", {}).items():
        return response.get("description", ""), media_type, type_label(content.get("schema", {}))
    return response.get("description", ""), "", ""


@bp.route("/docs")
def docs() -> str:
    document = spec()
    found = operations(document)
    tags = list(dict.fromkeys(operation["tag"] for operation in found))
    return render_template(
        "api/docs.html",
        document=document,
        tags=tags,
        operations=found,
        schemas=document["components"]["schemas"],
        problem_kinds=PROBLEM_KINDS,
        type_label=type_label,
        constraints=constraints,
        response_schema=lambda response: response_schema(document, response),
        schema_name=schema_name,
    )
