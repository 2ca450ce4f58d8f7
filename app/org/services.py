"""Use cases that change the organization tree (the CLI and the demo seed use them)."""
from __future__ import annotations

from app.core.db import unit_of_work
from app.core.errors import Conflict, Invalid

from .models import LEVELS, Organization
from .queries import find_org

# which level may sit under which (county → departments and townships → villages)
ALLOWED_PARENT = {"county": (None,), "department": ("county",), "township": ("county",), "village": ("township",)}


def org_path(parent: Organization | None, code: str) -> str:
    return f"{parent.path if parent else '/'}{code}/"


def create_org(code: str, name: str, *, level: str, parent_code: str | None = None,
               address: str | None = None) -> Organization:
    """Add an organization under its parent; the code must be new and use only letters and digits."""
    if level not in LEVELS:
        raise Invalid(f"未知机构级别 {level}", code="invalid_org_level", level=level)
    if not code.isascii() or not code.isalnum():
        raise Invalid("机构编码只能包含字母和数字", code="invalid_org_code", org_code=code)
    with unit_of_work() as s:
        if find_org(code):
            raise Conflict("机构编码已存在", code="duplicate_org", org_code=code)
        parent = find_org(parent_code)
        if parent_code and parent is None:
            raise Invalid("上级机构不存在", code="invalid_org_code", org_code=parent_code)
        if (parent.level if parent else None) not in ALLOWED_PARENT[level]:
            raise Invalid("机构层级不合法", code="invalid_org_level", level=level, parent_code=parent_code)
        org = Organization(code=code, name=name, level=level, parent_code=parent_code,
                           path=org_path(parent, code), address=address)
        s.add(org)
        s.flush()
        return org
