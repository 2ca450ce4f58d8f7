"""Marshmallow schemas of export jobs (app.reports.background), shared by the capabilities that start them."""
from __future__ import annotations

from marshmallow import Schema, fields


class ExportJobSchema(Schema):
    id = fields.Int()
    title = fields.Str()
    status = fields.Str(metadata={"description": "queued | running | done | failed"})
    status_label = fields.Str()
    percent = fields.Float()
    filename = fields.Str(allow_none=True)
    error_code = fields.Str(allow_none=True)
    error_message = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    download = fields.Str(allow_none=True)


class ExportJobListSchema(Schema):
    items = fields.List(fields.Nested(ExportJobSchema))
