"""One way to page a list: `?page=&per_page=` (page counts from 1), the same rules on every endpoint.

    class CaseQueryArgsSchema(page_args(per_page=50, max_per_page=500)):
        disease = ...

    rows = stmt.offset(offset(args)).limit(args["per_page"])
"""
from __future__ import annotations

from functools import cache
from typing import Any

from marshmallow import Schema, fields, validate

MAX_PAGE = 100_000


@cache
def page_args(*, per_page: int = 25, max_per_page: int = 200) -> type[Schema]:
    """A query-args base schema with `page` (1 … 100000) and `per_page` (1 … `max_per_page`, default `per_page`)."""
    return type(f"PageArgs{per_page}x{max_per_page}Schema", (Schema,), {
        "page": fields.Int(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
                           metadata={"description": "page number, from 1"}),
        "per_page": fields.Int(load_default=per_page, validate=validate.Range(min=1, max=max_per_page),
                               metadata={"description": f"items per page (default {per_page}, at most {max_per_page})"}),
    })


def offset(args: dict[str, Any]) -> int:
    """Rows to skip for the requested page."""
    return (args.get("page", 1) - 1) * args.get("per_page", 25)
