"""Search the audit log (supervisors and county administrators)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from app.core.db import session

from .models import AuditEntry


def search_entries(*, actor: str | None = None, action: str | None = None, object_type: str | None = None,
                   object_id: str | None = None, since: datetime | None = None, until: datetime | None = None,
                   page: int = 1, per_page: int = 50) -> tuple[list[AuditEntry], int]:
    """Entries matching every given filter, newest first, one page of them and the total count."""
    query = select(AuditEntry)
    for column, value in ((AuditEntry.actor, actor), (AuditEntry.action, action),
                          (AuditEntry.object_type, object_type), (AuditEntry.object_id, object_id)):
        if value:
            query = query.where(column == value)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    total = session().scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session().scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                              .offset((page - 1) * per_page).limit(per_page))
    return list(items), total
