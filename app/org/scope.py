"""Data scope as SQL: one rule, applied in the query layer of every table that belongs to an organization.

A user sees rows of their own organization and of the organizations below it; county-wide roles see every row;
a patient sees no organization's rows, only rows about themselves (`resident_id`). Callers put the filter into their
own `select()` so scope can never be forgotten by a view and out-of-scope rows simply do not exist (404).
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from app.auth.principal import Principal, reads_phi

from .models import Organization


def sees_organizations(principal: Principal | None) -> bool:
    """Whether the principal has any staff role (a patient-only principal sees only their own record)."""
    if principal is None or not principal.roles - {"patient"}:
        return False
    return principal.county_wide or bool(principal.org_path)


def org_scope_filter(column_org_path, principal: Principal | None) -> ColumnElement[bool]:
    """SQL condition on a materialized org path column: true for rows in the principal's organization subtree."""
    if principal is None or not sees_organizations(principal):
        return false()
    if principal.county_wide:
        return true()
    return column_org_path.startswith(principal.org_path, autoescape=True)


def org_code_scope_filter(column_org_code, principal: Principal | None) -> ColumnElement[bool]:
    """The same rule for tables that carry only an org code: `org_code IN (codes of the principal's subtree)`."""
    if principal is None or not sees_organizations(principal):
        return false()
    if principal.county_wide:
        return true()
    codes = select(Organization.code).where(Organization.path.startswith(principal.org_path, autoescape=True))
    return column_org_code.in_(codes.scalar_subquery())


def row_scope_filter(principal: Principal | None, *, org_path=None, org_code=None,
                     resident_id=None) -> ColumnElement[bool]:
    """Scope for rows about a resident: organization rule, or (for a patient) the row is about themselves.

    Pass the row's `org_path` column (preferred) or `org_code` column, and its `resident_id` column if it has one.
    """
    if org_path is not None:
        by_org = org_scope_filter(org_path, principal)
    elif org_code is not None:
        by_org = org_code_scope_filter(org_code, principal)
    else:
        raise TypeError("row_scope_filter needs org_path or org_code")
    if resident_id is not None and principal is not None and principal.resident_id is not None \
            and principal.has_role("patient"):
        return or_(by_org, resident_id == principal.resident_id)
    if resident_id is not None and not reads_phi(principal):
        # least privilege: roles that treat no patients see only rows about no resident (e.g. synthetic tests)
        return and_(by_org, resident_id.is_(None))
    return by_org


def row_in_scope(principal: Principal | None, *, org_path: str | None, resident_id: int | None) -> bool:
    """`row_scope_filter` evaluated on a row already in hand (its `org_path` and `resident_id`), in Python: the same
    rule, for an answer built from what a request just wrote."""
    by_org = principal is not None and sees_organizations(principal) and (
        principal.county_wide or (org_path is not None and org_path.startswith(principal.org_path)))
    if principal is not None and principal.resident_id is not None and principal.has_role("patient"):
        return by_org or (resident_id is not None and resident_id == principal.resident_id)
    if not reads_phi(principal):
        return by_org and resident_id is None
    return by_org
