"""One way to page a list: `?page=&per_page=` (page counts from 1), the same rules on every endpoint.

    class CaseQueryArgsSchema(PageArgsSchema):
        per_page = per_page(default=50, maximum=500)      # only where the default 25 / at most 200 does not fit
        disease = ...

    rows = stmt.offset(offset(args)).limit(args["per_page"])
"""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

MAX_PAGE = 100_000


def per_page(*, default: int = 25, maximum: int = 200) -> fields.Int:
    """The `per_page` argument: 1 … `maximum`, `default` when absent."""
    return fields.Int(load_default=default, validate=validate.Range(min=1, max=maximum),
                      metadata={"description": f"items per page (default {default}, at most {maximum})"})


class PageArgsSchema(Schema):
    """A query-args base schema with `page` (1 … 100000) and `per_page` (1 … 200, default 25)."""

    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
                      metadata={"description": "page number, from 1"})
    per_page = per_page()


def offset(args: dict[str, Any]) -> int:
    """Rows to skip for the requested page."""
    page: int = args.get("page", 1)
    size: int = args.get("per_page", 25)
    return (page - 1) * size
