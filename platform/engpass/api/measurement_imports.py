"""Importing a cycle's measurements from a file over the API: the web's import in one request.

``POST /cycles/{id}/measurements/import`` takes ``multipart/form-data`` — the only operation that does:
the file as it comes from Excel or the ERP, and optionally the column (its header) for each field, a
``dry_run`` that answers the preview, and ``skip_invalid``. Numbers the file holds as text are read in the
request's language (``Accept-Language``, German by default): ``50,00`` is fifty in German. Everything goes
through ``imports.service``, in one transaction: a row with an error is a 422 naming each row (unless
``skip_invalid``), and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask import abort, g, request
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import Schema, fields

from engpass.api.blueprint import bp, endpoint
from engpass.api.problems import ApiProblem, invalid, rule_violation
from engpass.api.schema_fields import DecimalString
from engpass.cycles.models import Cycle
from engpass.cycles.rules import StageRuleViolation
from engpass.db import db
from engpass.imports import service
from engpass.imports.parsing import MAX_BYTES, UploadError, read_table
from engpass.imports.rows import FIELDS, Row, guess_mapping
from engpass.organizations.permissions import Action

TAG = "Cycles"
COLUMN_MAX = 200
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")

REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": (
                            "CSV (`;`, `,` or tab; UTF-8 or Windows-1252) or an Excel workbook (.xlsx, first sheet); "
                            f"at most {MAX_BYTES // (1024 * 1024)} MB and 5,000 rows, the first row names the columns."
                        ),
                    },
                    **{
                        name: {
                            "type": "string",
                            "maxLength": COLUMN_MAX,
                            "description": f"The header of the column holding `{name}`; guessed when left out.",
                        }
                        for name in FIELDS
                    },
                    "dry_run": {
                        "type": "boolean",
                        "default": False,
                        "description": "Only read and check the file: answer the preview, save nothing.",
                    },
                    "skip_invalid": {
                        "type": "boolean",
                        "default": False,
                        "description": "Import the valid rows and leave out the rows with errors.",
                    },
                },
            }
        }
    },
}


class ImportValuesSchema(Schema):
    measured_on = fields.Date(allow_none=True)
    kpi_value = DecimalString(allow_none=True)
    hours_per_week = DecimalString(allow_none=True)
    cost_per_week = DecimalString(allow_none=True)
    note = fields.String(allow_none=True)


class ImportRowSchema(Schema):
    line = fields.Integer(required=True, metadata={"description": "The row's line in the file; the header is 1."})
    values = fields.Nested(ImportValuesSchema, required=True)
    errors = fields.List(fields.String(), required=True)


class ImportPreviewSchema(Schema):
    file_name = fields.String(required=True)
    columns = fields.List(fields.String(), required=True)
    mapping = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), required=True)
    valid_rows = fields.Integer(required=True)
    invalid_rows = fields.Integer(required=True)
    imported = fields.Integer(required=True, metadata={"description": "0 for a dry run."})
    rows = fields.List(fields.Nested(ImportRowSchema), required=True)


def _flag(name: str) -> bool:
    raw = request.form.get(name, "").strip().lower()
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise invalid(name, _("Please send true or false."))


def _mapping(headers: list[str]) -> dict[str, int | None]:
    mapping = guess_mapping(headers)
    for name in FIELDS:
        if name not in request.form:
            continue
        chosen = request.form[name].strip()
        if not chosen:
            mapping[name] = None
        elif chosen in headers:
            mapping[name] = headers.index(chosen)
        else:
            raise invalid(name, _("The file has no column “%(column)s”.", column=chosen[:COLUMN_MAX]))
    return mapping


def _document(result: service.Preview, imported: int) -> dict[str, Any]:
    def row(item: Row) -> dict[str, Any]:
        return {"line": item.line, "values": dict(item.values), "errors": item.errors}

    return {
        "file_name": result.file_name,
        "columns": result.headers,
        "mapping": {
            name: result.headers[index] if index is not None else None for name, index in result.mapping.items()
        },
        "valid_rows": len(result.valid),
        "invalid_rows": len(result.invalid),
        "imported": imported,
        "rows": [row(item) for item in result.rows],
    }


def _row_errors(result: service.Preview) -> ApiProblem:
    errors = [
        {"field": "file", "in": "body", "line": row.line, "message": message}
        for row in result.invalid
        for message in row.errors
    ]
    return ApiProblem(422, _("Nothing was imported: the file has rows with errors."), errors=errors)


@endpoint("/cycles/<int:cycle_id>/measurements/import", "POST", Action.record_measurement, tag=TAG, errors=(409,))
@bp.doc(requestBody=REQUEST_BODY)
@bp.response(200, ImportPreviewSchema, description="The preview of a dry run.")
@bp.alt_response(201, schema=ImportPreviewSchema, description="Imported.")
def import_measurements(cycle_id: int) -> tuple[dict[str, Any], int]:
    """Import measurements from a CSV file or an Excel workbook; ``dry_run`` only previews them."""
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    dry_run, skip_invalid = _flag("dry_run"), _flag("skip_invalid")
    upload = request.files.get("file")
    if upload is None:
        raise invalid("file", _("Please send the file as the form field “file”."))
    try:
        table = read_table(upload.read(MAX_BYTES + 1))
    except UploadError as refused:
        raise invalid("file", refused.message) from None
    session = db.session()
    try:
        service.check_stage(cycle)
        result = service.preview(
            session, cycle, upload.filename or "upload", table, _mapping(table.headers), get_locale() or Locale("de")
        )
    except StageRuleViolation as refused:
        raise rule_violation(refused.problems, "file") from None
    except service.ImportRefused as refused:
        raise invalid("file", refused.message) from None
    if dry_run:
        return _document(result, 0), 200
    if result.invalid and not skip_invalid:
        raise _row_errors(result)
    try:
        imported = service.import_rows(session, cycle, result, g.api_user.id, skip_invalid=skip_invalid)
    except service.ImportRefused as refused:
        db.session.rollback()
        raise invalid("file", refused.message) from None
    db.session.commit()
    return _document(result, imported), 201
