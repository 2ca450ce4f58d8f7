"""Saved reports (per user, optionally shared with one role) and their monthly delivery: on day N of each month the
report is run for the month just ended, with its owner's scope, saved as xlsx or PDF and announced in the owner's
inbox with a download link. One delivery per report and month (unique row + notification dedupe key), so the daily
sweep may run any number of times."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.auth.principal import Principal
from app.auth.services import principal_for_user_id
from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.core.errors import DomainError, NotFound
from app.notifications.services import notify

from . import exports, queries
from .models import ReportDelivery, SavedReport

log = logs.get("report_builder")
FORMATS = ("xlsx", "pdf")
BUILDER_ROLES = ("supervisor", "county_admin", "township_public_health")


def _visible(p: Principal):
    return or_(SavedReport.owner_id == p.user_id, SavedReport.shared_role.in_(sorted(p.roles)))


def list_reports(p: Principal) -> list[SavedReport]:
    """The caller's reports and those shared with one of their roles (newest first)."""
    return list(session().scalars(select(SavedReport).where(_visible(p)).order_by(SavedReport.id.desc())))


def get_report(p: Principal, report_id: int, *, own: bool = False) -> SavedReport:
    """A report the caller may see (own: only its owner may change it); anything else is 404."""
    report = session().get(SavedReport, report_id)
    if report is None or not (report.owner_id == p.user_id or (not own and report.shared_role in p.roles)):
        raise NotFound("报表不存在 (report not found)", code="report_not_found")
    return report


def save_report(p: Principal, body: dict[str, Any], report_id: int | None = None) -> SavedReport:
    """Create or replace one of the caller's reports; the definition is checked first (nothing half-saved)."""
    queries.check(body["definition"])
    now = clock.now()
    with unit_of_work() as s:
        report = s.get(SavedReport, report_id) if report_id else None
        if report_id and (report is None or report.owner_id != p.user_id):
            raise NotFound("报表不存在 (report not found)", code="report_not_found")
        if report is None:
            report = SavedReport(owner_id=p.user_id, created_at=now)
            s.add(report)
        report.name, report.definition = body["name"].strip(), body["definition"]
        report.shared_role = body.get("shared_role")
        report.schedule_day, report.schedule_format = body.get("schedule_day"), body.get("schedule_format")
        if report.schedule_day and not report.schedule_format:
            report.schedule_format = "xlsx"
        report.updated_at = now
        s.flush()
        return report


def delete_report(p: Principal, report_id: int) -> None:
    with unit_of_work() as s:
        report = get_report(p, report_id, own=True)
        s.delete(report)


def render(result: dict[str, Any], title: str, fmt: str) -> bytes:
    return exports.pdf(result, title) if fmt == "pdf" else exports.workbook(result, title)


def _previous_month(today: date) -> str:
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year:04d}-{month:02d}"


def for_period(definition: dict[str, Any], period: str) -> dict[str, Any]:
    """The definition moved so that it ends with `period`, keeping the length of its range."""
    rng = definition.get("period") or {}
    first, last = rng.get("from", period), rng.get("to", period)
    length = (int(last[:4]) * 12 + int(last[5:])) - (int(first[:4]) * 12 + int(first[5:]))
    end = int(period[:4]) * 12 + int(period[5:]) - 1
    start = end - max(length, 0)
    return {**definition, "period": {**rng, "from": f"{start // 12:04d}-{start % 12 + 1:02d}", "to": period}}


def deliver_due(*, today: date | None = None) -> int:
    """Deliver every scheduled report whose day has come this month and that has no delivery for last month yet;
    returns how many were delivered."""
    today = today or clock.today()
    period = _previous_month(today)
    due = session().scalars(select(SavedReport).where(SavedReport.schedule_day.is_not(None),
                                                      SavedReport.schedule_day <= today.day)).all()
    done = {rid for rid in session().scalars(select(ReportDelivery.report_id).where(ReportDelivery.period == period))}
    delivered = 0
    for report in due:
        if report.id not in done:
            delivered += deliver(report.id, period)
    return delivered


def deliver(report_id: int, period: str) -> int:
    """Generate one report for a month with its owner's scope, store it and notify the owner (1 when new)."""
    report = session().get(SavedReport, report_id)
    if report is None:
        return 0
    owner = principal_for_user_id(report.owner_id)
    if owner is None:
        log.warning("scheduled report skipped: owner inactive", extra={"job": "report_builder.deliver",
                                                                      "status": report_id})
        return 0
    fmt = report.schedule_format or "xlsx"
    try:
        result = queries.run(owner, for_period(report.definition, period))
    except DomainError as exc:
        log.warning("scheduled report not generated", extra={"job": "report_builder.deliver", "status": report_id,
                                                             "error": exc.code})
        return 0
    title = f"{report.name} ({period})"
    row = ReportDelivery(report_id=report.id, owner_id=report.owner_id, period=period, format=fmt,
                         filename=f"report-{report.id}-{period}.{fmt}", content=render(result, title, fmt),
                         created_at=clock.now())
    try:
        with unit_of_work() as s:
            s.add(row)
    except IntegrityError:
        session().rollback()
        return 0                                       # another sweep delivered it
    notify(report.owner_id, kind="report_delivery", title=f"定期报表: {title}",
           body=f"「{report.name}」{period} 的报表已生成 ({'Excel' if fmt == 'xlsx' else 'PDF'}), 点击下载。",
           link=f"/api/v1/report-builder/deliveries/{row.id}/download",
           dedupe_key=f"report_delivery:{report.id}:{period}")
    return 1


def deliveries(p: Principal, report_id: int) -> list[ReportDelivery]:
    get_report(p, report_id, own=True)
    return list(session().scalars(select(ReportDelivery).where(ReportDelivery.report_id == report_id)
                                  .order_by(ReportDelivery.period.desc())))


def get_delivery(p: Principal, delivery_id: int) -> ReportDelivery:
    row = session().get(ReportDelivery, delivery_id)
    if row is None or row.owner_id != p.user_id:
        raise NotFound("报表文件不存在 (delivery not found)", code="delivery_not_found")
    return row
