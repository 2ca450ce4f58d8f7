"""Who may see and change what in training.

* Managers (`trainer`, `county_admin`) make and change plans of their own organization subtree: a sub-centre's
  trainer plans for its own staff, the head hospital's trainer (at the root) for everyone and sees every plan.
* Overseers (`education_head` 科教科, `supervisor`) read every plan in their subtree; the 科教科 head approves.
* A trainee sees the sessions whose roster they are on (and the lecturer the sessions they teach).
Out-of-scope objects do not exist for the caller (404).
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, false

from app.auth.principal import Principal

from .errors import NotTrainingManager, SessionNotFound
from .models import Enrolment, TrainingSession

MANAGER_ROLES = ("trainer", "county_admin")
OVERSEER_ROLES = ("education_head", "supervisor")


def _under(path: str | None, p: Principal) -> bool:
    return bool(p.org_path) and (path or "").startswith(p.org_path)


def manages(p: Principal, org_path: str | None) -> bool:
    return p.has_role(*MANAGER_ROLES) and _under(org_path, p)


def oversees(p: Principal, org_path: str | None) -> bool:
    return (p.has_role(*MANAGER_ROLES, *OVERSEER_ROLES)) and _under(org_path, p)


def require_manager(p: Principal, org_path: str | None) -> None:
    if not manages(p, org_path):
        raise NotTrainingManager("只有本机构的培训管理员可以操作 (not a training manager of this organization)")


def path_filter(column, p: Principal) -> ColumnElement[bool]:
    """Rows under the caller's organization, for managers and overseers."""
    if not p.has_role(*MANAGER_ROLES, *OVERSEER_ROLES) or not p.org_path:
        return false()
    return column.startswith(p.org_path, autoescape=True)


def is_on_roster(session_row: TrainingSession, p: Principal, enrolment: Enrolment | None) -> bool:
    return enrolment is not None or session_row.lecturer_user_id == p.user_id


def check_readable(p: Principal, row: TrainingSession | None, enrolment: Enrolment | None) -> TrainingSession:
    if row is None or not (oversees(p, row.org_path) or is_on_roster(row, p, enrolment)):
        raise SessionNotFound("培训不存在 (training session not found)")
    return row
