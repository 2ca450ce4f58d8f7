"""Marshmallow schemas of the audit API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.auth.fields import Text


class AuditQueryArgsSchema(Schema):
    actor = Text()
    action = Text()
    object_type = Text()
    object_id = Text()
    since = fields.AwareDateTime(metadata={"description": "ISO 8601 with offset"})
    until = fields.AwareDateTime(metadata={"description": "ISO 8601 with offset (exclusive)"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = Text()
    actor_user_id = fields.Integer(allow_none=True)
    action = Text()
    object_type = Text()
    object_id = Text(allow_none=True)
    ip = Text(allow_none=True)
    user_agent = Text(allow_none=True)
    request_id = Text(allow_none=True)
    details = fields.Dict()


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema))
    total = fields.Integer()
