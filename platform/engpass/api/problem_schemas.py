"""The API's error document, problem+json (RFC 9457): one entry per field that was refused."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ProblemFieldSchema(Schema):
    field = fields.String(required=True, metadata={"description": "The field, dotted for nested ones."})
    in_ = fields.String(
        data_key="in",
        required=True,
        validate=validate.OneOf(["body", "query"]),
        metadata={"description": "Where the field was sent."},
    )
    pointer = fields.String(metadata={"description": "JSON pointer into the body (body fields only)."})
    line = fields.Integer(metadata={"description": "The line of an imported file the message is about."})
    message = fields.String(required=True)


class ProblemSchema(Schema):
    type = fields.String(required=True, metadata={"description": "The problem's explanation on the docs page."})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True, metadata={"description": "This occurrence, in the request's language."})
    instance = fields.String(required=True, metadata={"description": "The path of the request."})
    errors = fields.List(fields.Nested(ProblemFieldSchema), metadata={"description": "One entry per field."})
