"""Create and read notifications. Producers pass a `dedupe_key`; a second notify with the same key does nothing,
so every producer (assignment, new task, overdue sweep) may safely run twice."""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.core import clock
from app.core.db import is_postgres, rowcount, session, unit_of_work
from app.core.errors import NotFound

from .models import Notification


def notify(user_id: int, *, kind: str, title: str, dedupe_key: str, body: str = "", link: str | None = None,
           task_id: int | None = None) -> bool:
    """Record a notification for `user_id` unless one with `dedupe_key` exists; True when one was added."""
    dialect = postgresql if is_postgres() else sqlite
    stmt = dialect.insert(Notification).values(
        user_id=user_id, kind=kind, title=title[:255], body=body, link=link, task_id=task_id,
        created_at=clock.now(), dedupe_key=dedupe_key[:160]).on_conflict_do_nothing(
        index_elements=["dedupe_key"]).returning(Notification.id)
    with unit_of_work() as s:
        return s.execute(stmt).scalar() is not None


def list_for(user_id: int, *, unread: bool = False, page: int = 1, per_page: int = 25
             ) -> tuple[list[Notification], int, int]:
    """The user's notifications, newest first: one page, the total, and how many are unread."""
    where = [Notification.user_id == user_id]
    if unread:
        where.append(Notification.read_at.is_(None))
    s = session()
    rows = s.scalars(select(Notification).where(*where).order_by(Notification.id.desc())
                     .offset((page - 1) * per_page).limit(per_page)).all()
    total = s.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
    unread_count = s.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0
    return list(rows), total, unread_count


def mark_read(user_id: int, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (NotFound for anyone else's)."""
    with unit_of_work() as s:
        row = s.scalars(select(Notification).where(Notification.id == notification_id,
                                                   Notification.user_id == user_id)).first()
        if row is None:
            raise NotFound("通知不存在 (notification not found)", notification_id=notification_id)
        if row.read_at is None:
            row.read_at = clock.now()
        return row


def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of the user read; the number marked."""
    with unit_of_work() as s:
        return rowcount(s.execute(update(Notification).where(Notification.user_id == user_id,
                                                             Notification.read_at.is_(None))
                                  .values(read_at=clock.now())))
