"""Marshmallow fields shared by the people APIs."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate


class Text(fields.String):
    """A string without NUL characters (PostgreSQL text cannot hold them; they are never legitimate input)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ValidationError("不能包含 NUL 字符 (must not contain NUL characters)")
        return text


class Id(fields.Integer):
    """A database id: a positive 63-bit integer (larger numbers can name no row)."""

    def __init__(self, **kwargs):
        super().__init__(strict=False, validate=validate.Range(min=1, max=2**63 - 1), **kwargs)
