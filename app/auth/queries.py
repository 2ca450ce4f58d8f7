"""Read side of users, for other capabilities (task assignment, residents, reports)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, or_, select

from app.core.db import session
from app.org.models import Organization
from app.org.queries import org_facts

from .models import User, UserRole
from .principal import COUNTY_WIDE_ROLES


def user_exists(user_id: int) -> bool:
    return session().get(User, user_id) is not None


def users_by_id(user_ids) -> dict[int, User]:
    ids = list(set(user_ids))
    return {u.id: u for u in session().scalars(select(User).where(User.id.in_(ids)))} if ids else {}


_USER_REFS = select(User.id, User.username, User.display_name).where(User.id.in_(bindparam("ids", expanding=True)))


def user_refs(user_ids) -> dict[int, Any]:
    """id, username and display name of users by id (a page of rows naming their assignees): plain rows, one
    statement built once, no User entities and their eagerly loaded roles."""
    ids = list(set(user_ids))
    return {r.id: r for r in session().execute(_USER_REFS, {"ids": ids})} if ids else {}


def candidate_users(role: str, org_code: str) -> list[User]:
    """Active users holding `role` who may act for organization `org_code`: those working at it or at one of
    its ancestors (a township doctor serves the township's villages); county-wide roles serve every organization."""
    query = (select(User).join(UserRole, UserRole.user_id == User.id)
             .where(UserRole.role == role, User.active.is_(True)))
    if role not in COUNTY_WIDE_ROLES:
        org = session().get(Organization, org_code)
        if org is None:
            return []
        codes = [c for c in org.path.strip("/").split("/") if c]
        query = query.where(User.org_code.in_(codes))
    return list(session().scalars(query.order_by(User.username)))


def candidate_user_ids(role: str, org_code: str, *, excluding: str | None = None,
                       limit: int | None = None) -> list[int]:
    """The ids of `candidate_users(role, org_code)` in the same order, without the user named `excluding`
    (separation of duties), at most `limit` of them: one narrow query, no user objects or roles loaded (a new task's
    announcement only needs to know whether its group is small enough to notify one by one)."""
    query = (select(User.id).join(UserRole, UserRole.user_id == User.id)
             .where(UserRole.role == role, User.active.is_(True)))
    if excluding is not None:
        query = query.where(User.username != excluding)
    if role not in COUNTY_WIDE_ROLES:
        org = org_facts(org_code)       # the per-worker tree (one read a miss), not a statement per announcement
        if org is None:
            return []
        query = query.where(User.org_code.in_([c for c in org.path.strip("/").split("/") if c]))
    query = query.order_by(User.username)
    return list(session().scalars(query if limit is None else query.limit(limit)))


def staff_serving(org_code: str, excluded_roles) -> list[User]:
    """Active users working at organization `org_code` or one of its ancestors who hold a role outside
    `excluded_roles` (the staff offered a laneless task an integration client's instance has, issue 14.11)."""
    org = session().get(Organization, org_code)
    if org is None:
        return []
    codes = [c for c in org.path.strip("/").split("/") if c]
    query = (select(User).join(UserRole, UserRole.user_id == User.id)
             .where(UserRole.role.not_in(sorted(excluded_roles)), User.active.is_(True), User.org_code.in_(codes))
             .distinct())
    return list(session().scalars(query.order_by(User.username)))


def user_id_by_username(username: str | None) -> int | None:
    """The id of an active user by username (process actors are recorded by name)."""
    if not username:
        return None
    return session().scalar(select(User.id).where(User.username == username, User.active.is_(True)))


def staff_in(roles, org_paths) -> list[tuple[User, str, str]]:
    """Active users holding one of `roles` and working in one of the subtrees `org_paths` (materialized paths):
    (user, the first matching role, the user's org path), ordered by organization then username."""
    roles = sorted(set(roles))
    if not roles or not org_paths:
        return []
    path_match = [Organization.path.startswith(p, autoescape=True) for p in org_paths]
    rows = session().execute(
        select(User, UserRole.role, Organization.path)
        .join(UserRole, UserRole.user_id == User.id).join(Organization, Organization.code == User.org_code)
        .where(UserRole.role.in_(roles), User.active.is_(True), or_(*path_match))
        .order_by(Organization.path, User.username, UserRole.role))
    seen: dict[int, tuple[User, str, str]] = {}
    for user, role, path in rows:
        seen.setdefault(user.id, (user, role, path))
    return list(seen.values())


def users_by_username(usernames) -> dict[str, User]:
    names = list(set(usernames))
    return {u.username: u for u in session().scalars(select(User).where(User.username.in_(names)))} if names else {}


def display_names(usernames) -> dict[str, str]:
    """The Chinese display name of each known username (who pushed, who visited), for pages that must not show
    usernames; `system` is 系统. Unknown usernames are left out (callers show a dash)."""
    names = {n for n in usernames if n}          # read once: callers may pass a generator
    found = users_by_username(names)
    out = {n: u.display_name or n for n, u in found.items() if u.display_name}
    if "system" in names:
        out["system"] = "系统"
    return out


def users_with_role_at(role: str, org_codes) -> list[User]:
    """Active users holding `role` who work at one of `org_codes` (exactly there, not below)."""
    codes = sorted(set(org_codes))
    if not codes:
        return []
    return list(session().scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                                  .where(UserRole.role == role, User.active.is_(True), User.org_code.in_(codes))
                                  .order_by(User.id)))
