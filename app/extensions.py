"""Flask extensions created once and bound in the application factory."""
from __future__ import annotations

from flask_smorest import Api as _Api
from marshmallow import Schema, fields


class ErrorSchema(Schema):
    """Every error: a stable machine-readable code, a message (Chinese first), and details."""

    code = fields.Str(required=True, metadata={"description": "stable machine-readable code, e.g. not_found"})
    message = fields.Str(required=True)
    details = fields.Dict(required=True)


class Api(_Api):
    ERROR_SCHEMA = ErrorSchema


api = Api()
