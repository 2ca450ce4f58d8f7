"""The centre's monthly analysis report, built and delivered by the scheduler (schedule
`intervention.monthly_reports`, hourly): from the 1st of each month (platform clock, display time zone) the report of
the month just ended — the analysis PDF and the indicator workbook of `reports.py`, scoped to the centre — is stored
for every centre that has cases and announced in the inbox of the hospital's quality office / medical affairs
(医务科, role `supervisor` at the hospital the centre belongs to) and of the centre's own supervisors, with the
download link. The delivery is the same mechanism as custom reports' monthly delivery (`report_builder`): a stored
file row, unique per centre and month, plus a notification with a dedupe key — so a re-run delivers nothing twice.
A failure is kept (status `failed`, the error, attempts), logged as an error, announced once to the same inbox, and
retried by the next run; the list endpoint shows it."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.principal import Principal
from app.auth.queries import users_with_role_at
from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.core.errors import NotFound
from app.notifications.services import notify
from app.org.queries import find_org
from app.org.scope import org_scope_filter

from . import reports
from .models import InterventionCase, MonthlyReport

log = logs.get("intervention.monthly")
RECIPIENT_ROLE = "supervisor"
STATUS_LABELS = {"delivered": "已送达", "failed": "生成失败"}


def previous_month(today: date) -> str:
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year:04d}-{month:02d}"


def centre_principal(org_code: str, org_path: str) -> Principal:
    """Who the report is built as: the centre itself (its subtree only, like a member of the department)."""
    return Principal(user_id=0, username="system", roles=frozenset({"township_doctor"}), org_code=org_code,
                     org_path=org_path, display_name="系统")


def recipients(org_path: str) -> list[int]:
    """The quality office / medical affairs (supervisors) of the hospital the centre belongs to and of the centre."""
    codes = [c for c in org_path.strip("/").split("/") if c]
    return [u.id for u in users_with_role_at(RECIPIENT_ROLE, codes)]


def centres(period: str) -> list[tuple[str, str]]:
    """Every centre (department) with interventional cases admitted by the end of `period`: (org code, path)."""
    start = date.fromisoformat(f"{period}-01")
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return list(session().execute(select(InterventionCase.org_code, InterventionCase.org_path)
                                  .where(InterventionCase.admitted_on < end).distinct()
                                  .order_by(InterventionCase.org_code)).tuples())


def deliver_due(*, today: date | None = None) -> int:
    """Build and deliver last month's report of every centre that has none delivered yet (returns how many were
    delivered now). Runs hourly; only the month just ended is built, so the 1st of the month is when it appears."""
    period = previous_month(today or clock.today())
    done = set(session().scalars(select(MonthlyReport.org_code).where(MonthlyReport.period == period,
                                                                        MonthlyReport.status == "delivered")))
    delivered = 0
    for org_code, org_path in centres(period):
        if org_code not in done:
            delivered += deliver(org_code, org_path, period)
    return delivered


def deliver(org_code: str, org_path: str, period: str) -> int:
    """Build one centre's report for one month, store it and notify the recipients; 1 when delivered now."""
    p = centre_principal(org_code, org_path)
    org = find_org(org_code)
    name = org.name if org else org_code
    try:
        pdf, xlsx = reports.monthly_pdf(p, period), reports.indicators_xlsx(p, period)
    except Exception as exc:  # noqa: BLE001 (any failure is kept on the row, logged, announced and retried)
        session().rollback()
        return _failed(org_code, org_path, period, name, f"{type(exc).__name__}: {exc}"[:500])
    users = recipients(org_path)
    now = clock.now()
    try:
        with unit_of_work() as s:
            row = s.scalars(select(MonthlyReport).where(MonthlyReport.org_code == org_code,
                                                        MonthlyReport.period == period).with_for_update()).first()
            if row is not None and row.status == "delivered":
                return 0                                   # another run delivered it
            if row is None:
                row = MonthlyReport(org_code=org_code, org_path=org_path, period=period, attempts=0, created_at=now)
                s.add(row)
            row.status, row.pdf, row.xlsx, row.error = "delivered", pdf, xlsx, None
            row.recipients, row.attempts, row.delivered_at = users, row.attempts + 1, now
            s.flush()
            report_id = row.id
    except IntegrityError:
        session().rollback()
        return 0                                           # a concurrent run inserted it first
    for user_id in users:
        notify(user_id, kind="centre_monthly_report", title=f"介入中心月度分析报告：{name} {period}",
               body=f"{name} {period} 的月度质量与 DRG 分析报告已生成（PDF 与指标 Excel），点击下载 PDF。",
               link=f"/api/v1/intervention-centre/monthly-reports/{report_id}/report.pdf",
               dedupe_key=f"centre_monthly_report:{org_code}:{period}:{user_id}")
    if not users:
        log.warning("centre monthly report has no recipient", extra={"job": "intervention.monthly_reports",
                                                                     "status": org_code})
    return 1


def _failed(org_code: str, org_path: str, period: str, name: str, error: str) -> int:
    log.error("centre monthly report failed", extra={"job": "intervention.monthly_reports", "status": org_code,
                                                     "error": error})
    try:
        with unit_of_work() as s:
            row = s.scalars(select(MonthlyReport).where(MonthlyReport.org_code == org_code,
                                                        MonthlyReport.period == period).with_for_update()).first()
            if row is None:
                row = MonthlyReport(org_code=org_code, org_path=org_path, period=period, attempts=0, recipients=[],
                                    created_at=clock.now())
                s.add(row)
            if row.status == "delivered":
                return 0
            row.status, row.error, row.attempts = "failed", error, row.attempts + 1
    except IntegrityError:
        session().rollback()
        return 0
    for user_id in recipients(org_path):
        notify(user_id, kind="centre_monthly_report_failed", title=f"介入中心月度分析报告生成失败：{name} {period}",
               body="系统将每小时自动重试；如持续失败请联系信息科。",
               link="/intervention", dedupe_key=f"centre_monthly_report_failed:{org_code}:{period}:{user_id}")
    return 0


def listed(p: Principal) -> list[dict[str, Any]]:
    """The monthly reports of the centres in the caller's scope, newest month first."""
    rows = session().scalars(select(MonthlyReport).where(org_scope_filter(MonthlyReport.org_path, p))
                             .order_by(MonthlyReport.period.desc(), MonthlyReport.org_code))
    out = []
    for r in rows:
        org = find_org(r.org_code)
        out.append({"id": r.id, "period": r.period, "centre_name": org.name if org else "介入中心",
                    "status": r.status, "status_label": STATUS_LABELS.get(r.status, r.status),
                    "error": r.error if r.status == "failed" else None, "attempts": r.attempts,
                    "recipients": len(r.recipients or []),
                    "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None,
                    "has_files": r.pdf is not None})
    return out


def get(p: Principal, report_id: int) -> MonthlyReport:
    row = session().scalars(select(MonthlyReport).where(MonthlyReport.id == report_id,
                                                        org_scope_filter(MonthlyReport.org_path, p))).first()
    if row is None or row.pdf is None:
        raise NotFound("月度报告不存在 (report not found)", code="monthly_report_not_found", report_id=report_id)
    return row
