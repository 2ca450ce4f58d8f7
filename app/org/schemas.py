"""Marshmallow schemas of the organization API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.auth.fields import Text

from .models import LEVELS


class OrganizationQueryArgsSchema(Schema):
    level = Text(validate=validate.OneOf(LEVELS))
    under = Text(metadata={"description": "only this organization and those below it"})


class OrganizationSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    level = fields.String(required=True, metadata={"enum": ["county", "department", "township", "village"]})
    parent_code = fields.String(allow_none=True)
    path = fields.String()
    address = fields.String(allow_none=True)
