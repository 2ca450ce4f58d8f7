"""Schedules and background jobs of custom reports (see app/schedules.py, app/reports/background.py)."""
from __future__ import annotations

from typing import Any

from app.auth.services import principal_for_user_id
from app.core.errors import NotFound
from app.reports.background import Progress

from . import exports, queries, services

# a report built as a job may be this long (the interactive limit is queries.MAX_ROWS)
JOB_MAX_ROWS = 20_000


def deliver_scheduled() -> int:
    """Schedule `report_builder.deliver_scheduled`: deliver the monthly reports whose day has come (idempotent)."""
    return services.deliver_due()


def build_report(params: dict[str, Any], owner_id: int, progress: Progress) -> tuple[bytes, str, str]:
    """A report too big for a request, run with its requester's scope and kept as xlsx (Chinese headers)."""
    p = principal_for_user_id(owner_id)
    if p is None:
        raise NotFound("申请人账号已停用", code="owner_inactive")
    result = queries.run(p, params["definition"], max_rows=JOB_MAX_ROWS, progress=progress)
    name = params.get("name") or "自定义报表"
    return exports.workbook(result, name), f"{name}.xlsx", exports.MIME
