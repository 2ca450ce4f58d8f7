"""Marshmallow schemas of `/api/v1/notifications`."""
from __future__ import annotations

from marshmallow import Schema, fields

from app.core.paging import PageArgsSchema


class NotificationQueryArgsSchema(PageArgsSchema):
    unread = fields.Bool(load_default=False)


class NotificationSchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    title = fields.Str()
    body = fields.Str()
    link = fields.Str(allow_none=True)
    task_id = fields.Int(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationListSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    total = fields.Int()
    unread = fields.Int()


class UnreadSchema(Schema):
    unread = fields.Int()
