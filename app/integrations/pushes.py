"""Outbound pushes: the records we owe external systems (follow-ups to public health, approved out-of-county
referrals, pre-review results to the HIS), one `external_pushes` row per (system, record).

A push that goes through is `sent` and never repeated. One that fails is `failed` with its attempts, last error and
next retry time (exponential backoff from 1 minute to 6 hours); the other records of the run go on. A record still
failing after `YGT_PUSH_ALERT_AFTER` attempts (default 3) is reported once to the county administrators as a
notification that links to the integration screen, where every undelivered record is listed and can be retried
at once. Nothing owed to another system waits without somebody being told."""
from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import String, and_, cast, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.auth.queries import candidate_users
from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.core.errors import NotFound
from app.notifications.services import notify
from app.org.queries import root_org

from .models import ExternalPush

log = logs.get("pushes")

SYSTEM_LABELS = {"public_health": "公共卫生系统", "regional": "区域全民健康信息平台", "his": "医院信息系统",
                 "insurance": "医保平台", "spd": "医共体统一供应链(SPD)"}
OBJECT_LABELS = {"encounter": "随访记录", "referral": "转诊单", "rx_result": "审方结果", "replenishment": "补货请求",
                 "consignment_use": "寄售耗材使用"}
RETRY_BASE_S = 60
RETRY_MAX_S = 6 * 3600
RECIPIENT_ROLE = "county_admin"


def alert_after() -> int:
    return max(1, int(os.environ.get("YGT_PUSH_ALERT_AFTER", "3")))


def outstanding(system: str, object_type: str, id_column) -> ColumnElement[bool]:
    """A WHERE clause for the records of `id_column` still owed to `system` and due now: never pushed, or failed
    and past their retry time (so a batch limit counts only what is left to send)."""
    now = clock.now()
    return ~exists().where(
        ExternalPush.system == system, ExternalPush.object_type == object_type,
        ExternalPush.object_id == cast(id_column, String),
        or_(ExternalPush.status == "sent", and_(ExternalPush.next_attempt_at.is_not(None),
                                                 ExternalPush.next_attempt_at > now)))


def is_due(system: str, object_type: str, object_id: str) -> bool:
    """Whether this record should be sent now (for lists the caller cannot filter in SQL)."""
    row = _row(system, object_type, object_id)
    return row is None or (row.status == "failed" and (row.next_attempt_at is None
                                                        or row.next_attempt_at <= clock.now()))


def _row(system: str, object_type: str, object_id: str) -> ExternalPush | None:
    return session().scalar(select(ExternalPush).where(
        ExternalPush.system == system, ExternalPush.object_type == object_type, ExternalPush.object_id == object_id))


def record_sent(system: str, object_type: str, object_id: str, remote_id: str | None) -> None:
    with unit_of_work() as s:
        row = _row(system, object_type, object_id)
        if row is None:
            s.add(ExternalPush(system=system, object_type=object_type, object_id=object_id, remote_id=remote_id,
                               status="sent", attempts=1, pushed_at=clock.now()))
            return
        row.status, row.remote_id, row.pushed_at = "sent", remote_id, clock.now()
        row.attempts, row.last_error, row.next_attempt_at = row.attempts + 1, None, None


def record_failed(system: str, object_type: str, object_id: str, error: str) -> ExternalPush:
    """Count a failed attempt and schedule the next (1 min, 2, 4, … up to 6 h)."""
    now = clock.now()
    with unit_of_work() as s:
        row = _row(system, object_type, object_id)
        if row is None:
            row = ExternalPush(system=system, object_type=object_type, object_id=object_id, status="failed",
                               attempts=0, first_failed_at=now)
            s.add(row)
        row.status, row.attempts, row.last_error = "failed", row.attempts + 1, error[:2000]
        row.first_failed_at = row.first_failed_at or now
        row.next_attempt_at = now + timedelta(seconds=min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (row.attempts - 1)))
    log.warning("push failed", extra={"job": f"push:{system}:{object_type}", "status": row.attempts,
                                      "error": error[:300]})
    return row


def push_each(system: str, object_type: str, items, send: Callable[[Any], Any],
              key: Callable[[Any], str]) -> int:
    """Send each item (`send(item)` returns the remote answer), record the outcome, report stuck records; the
    number sent. A failure is recorded and the run goes on with the next item."""
    sent = 0
    for item in items:
        object_id = key(item)
        try:
            answer = send(item)
        except Exception as exc:  # noqa: BLE001  (any transport or remote error is recorded and retried)
            session().rollback()
            record_failed(system, object_type, object_id, describe(exc))
            continue
        remote = answer.get("id") if isinstance(answer, dict) else None
        record_sent(system, object_type, object_id, str(remote) if remote else None)
        sent += 1
    report_stuck(system)
    return sent


def describe(exc: Exception) -> str:
    """The error as an administrator reads it: HTTP status and the remote's answer where there is one."""
    code = getattr(exc, "code", None)
    body = ""
    read = getattr(exc, "read", None)
    if callable(read):
        try:
            body = read().decode("utf-8", "replace")[:500]
        except Exception:  # noqa: BLE001  (the body is a courtesy)
            body = ""
    head = f"HTTP {code}" if isinstance(code, int) else type(exc).__name__
    return f"{head}: {body or exc}"


def report_stuck(system: str) -> int:
    """Tell the county administrators, once per record, about records of `system` failing `alert_after()` times;
    one notification per system and day names how many are stuck. Returns how many records were reported."""
    stuck = list(session().scalars(select(ExternalPush).where(
        ExternalPush.system == system, ExternalPush.status == "failed", ExternalPush.alerted_at.is_(None),
        ExternalPush.attempts >= alert_after())))
    if not stuck:
        return 0
    total = session().scalar(select(func.count()).select_from(ExternalPush).where(
        ExternalPush.system == system, ExternalPush.status == "failed", ExternalPush.attempts >= alert_after()))
    label = SYSTEM_LABELS.get(system, system)
    day = clock.today().isoformat()
    root = root_org()
    recipients = candidate_users(RECIPIENT_ROLE, root.code) if root is not None else []
    for user in recipients:
        notify(user.id, kind="push_failed", title=f"推送{label}失败: {total} 条未送达",
               body=(f"{total} 条记录多次推送到{label}都没有成功 (最近一次: {stuck[-1].last_error or '未知错误'})。"
                     f"平台会继续自动重试; 请检查接口配置或联系对方系统, 处理后可在集成监控页立即重试。"),
               link=f"/integrations?pushes=failed&system={system}", dedupe_key=f"push_failed:{system}:{day}:{user.id}")
    if not recipients:
        log.error("push failures with nobody to tell: no active county administrator",
                  extra={"job": f"push:{system}", "status": total})
    with unit_of_work():
        for row in stuck:
            row.alerted_at = clock.now()
    return len(stuck)


def view(row: ExternalPush) -> dict[str, Any]:
    return {"id": row.id, "system": row.system, "system_label": SYSTEM_LABELS.get(row.system, row.system),
            "object_type": row.object_type, "object_label": OBJECT_LABELS.get(row.object_type, row.object_type),
            "object_id": row.object_id, "status": row.status, "attempts": row.attempts, "remote_id": row.remote_id,
            "last_error": row.last_error, "pushed_at": _iso(row.pushed_at), "first_failed_at": _iso(row.first_failed_at),
            "next_attempt_at": _iso(row.next_attempt_at), "alerted_at": _iso(row.alerted_at)}


def _iso(at) -> str | None:
    return at.isoformat() if at is not None else None


def listing(*, status: str | None = None, system: str | None = None, page: int = 1,
            per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    query = select(ExternalPush)
    if status:
        query = query.where(ExternalPush.status == status)
    if system:
        query = query.where(ExternalPush.system == system)
    total = session().scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session().scalars(query.order_by(ExternalPush.id.desc()).offset((page - 1) * per_page).limit(per_page))
    return [view(r) for r in rows], total


def retry_now(push_id: int) -> dict[str, Any]:
    """Make a failed record due at once (the next scheduled run sends it)."""
    with unit_of_work() as s:
        row = s.get(ExternalPush, push_id)
        if row is None or row.status != "failed":
            raise NotFound("没有这条未送达的推送 (push not found or already sent)", code="push_not_found")
        row.next_attempt_at = clock.now()
        return view(row)
