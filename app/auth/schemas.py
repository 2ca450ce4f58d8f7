"""Marshmallow schemas of the auth API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class OrgRefSchema(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()


class MeSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.String())
    org = fields.Nested(OrgRefSchema)
    resident_id = fields.Integer(allow_none=True)
    csrf_token = fields.String(metadata={"description": "also in the ygt_csrf cookie; send as X-CSRF-Token"})


class TokenCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class TokenCreatedSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    token = fields.String(metadata={"description": "shown once; keep it secret"})


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
