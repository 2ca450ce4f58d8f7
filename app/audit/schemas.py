"""Marshmallow schemas of the audit API."""
from __future__ import annotations

from marshmallow import Schema, fields

from app.auth.fields import Text
from app.core.paging import PageArgsSchema, per_page


class AuditQueryArgsSchema(PageArgsSchema):
    per_page = per_page(default=50, maximum=500)
    actor = Text()
    action = Text()
    object_type = Text()
    object_id = Text()
    since = fields.AwareDateTime(metadata={"description": "ISO 8601 with offset"})
    until = fields.AwareDateTime(metadata={"description": "ISO 8601 with offset (exclusive)"})


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
