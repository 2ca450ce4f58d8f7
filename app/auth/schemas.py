"""Marshmallow schemas of the auth API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.auth.fields import Text


class LoginSchema(Schema):
    username = Text(required=True, validate=validate.Length(min=1, max=80))
    password = Text(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class OrgRefSchema(Schema):
    code = Text()
    name = Text()
    level = Text()


class MeSchema(Schema):
    id = fields.Integer()
    username = Text()
    display_name = Text()
    roles = fields.List(Text())
    org = fields.Nested(OrgRefSchema)
    resident_id = fields.Integer(allow_none=True)
    csrf_token = Text(allow_none=True, metadata={"description": "also in the ygt_csrf cookie; send as X-CSRF-Token"})


class TokenCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=120))


class TokenCreatedSchema(Schema):
    id = fields.Integer()
    name = Text()
    token = Text(metadata={"description": "shown once; keep it secret"})


class TokenSchema(Schema):
    id = fields.Integer()
    name = Text()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
