"""The centre's monthly analysis report built by the scheduler: with the platform clock moved to the 1st of the next
month (display time zone) the report of the month just ended is stored (PDF + xlsx) and announced once in the
quality office's inbox with the download link; a re-run delivers nothing twice; a failure is kept, announced and
retried by the next run."""
from __future__ import annotations

import io
from datetime import date, datetime, time

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.core import clock, db
from app.intervention import monthly, reports
from app.intervention.models import MonthlyReport
from app.notifications.models import Notification
from tests.intervention_support import centre_fixture, stored_case  # noqa: F401  (the `centre` fixture)
from tests.test_follow_up_support import tick

pytestmark = pytest.mark.usefixtures("centre")


def _to_first_of_next_month(hour: int = 1) -> str:
    """Move the platform clock to hour:10 local time on the 1st of next month; answers the month just ended."""
    today = clock.today()
    first = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    target = datetime.combine(first, time(hour, 10), clock.local_tz())
    clock.advance(target - clock.now())
    return f"{today:%Y-%m}"


def _notes(app, kind: str) -> list[Notification]:
    with app.app_context():
        return list(db.session().scalars(select(Notification).where(Notification.kind == kind)))


def test_on_the_first_last_months_report_is_delivered_once(app, centre):
    w = centre
    stored_case(app, w["resident"], w["doctor"].user.id)
    period = _to_first_of_next_month()
    ran = tick(app)
    assert ran["intervention.monthly_reports"] == 1
    with app.app_context():
        rows = db.session().scalars(select(MonthlyReport)).all()
        assert [(r.org_code, r.period, r.status, r.attempts) for r in rows] == [("C01D01", period, "delivered", 1)]
        report_id = rows[0].id
    notes = _notes(app, "centre_monthly_report")
    assert [(n.user_id, n.link) for n in notes] == [
        (w["quality"].user.id, f"/api/v1/intervention-centre/monthly-reports/{report_id}/report.pdf")]
    assert period in notes[0].title

    # an hour later, and the next day: nothing is built or delivered again
    assert tick(app, days=1 / 24)["intervention.monthly_reports"] == 0
    assert tick(app, days=1)["intervention.monthly_reports"] == 0
    assert len(_notes(app, "centre_monthly_report")) == 1

    listed = w["quality"].get("/api/v1/intervention-centre/monthly-reports")
    assert listed.status_code == 200
    assert [(r["period"], r["status_label"], r["recipients"]) for r in listed.json["items"]] == [(period, "已送达", 1)]
    pdf = w["quality"].get(notes[0].link)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    book = w["quality"].get(f"/api/v1/intervention-centre/monthly-reports/{report_id}/report.xlsx")
    assert load_workbook(io.BytesIO(book.data)).sheetnames == ["指标", "病例"]
    missing = w["quality"].get("/api/v1/intervention-centre/monthly-reports/999999/report.pdf")
    assert missing.status_code == 404 and missing.json["code"] == "monthly_report_not_found"
    assert w["village"].get("/api/v1/intervention-centre/monthly-reports").status_code == 403


def test_a_failure_is_kept_announced_and_retried(app, centre, monkeypatch):
    w = centre
    stored_case(app, w["resident"], w["doctor"].user.id)
    period = _to_first_of_next_month()

    def broken(p, month):
        raise RuntimeError("字体缺失")
    monkeypatch.setattr(reports, "monthly_pdf", broken)
    assert tick(app)["intervention.monthly_reports"] == 0
    with app.app_context():
        row = db.session().scalars(select(MonthlyReport)).one()
        assert (row.status, row.attempts, row.pdf) == ("failed", 1, None) and "字体缺失" in row.error
    failed = _notes(app, "centre_monthly_report_failed")
    assert [n.user_id for n in failed] == [w["quality"].user.id]
    listed = w["quality"].get("/api/v1/intervention-centre/monthly-reports").json["items"]
    assert [(r["period"], r["status_label"], r["has_files"]) for r in listed] == [(period, "生成失败", False)]
    assert "字体缺失" in listed[0]["error"]
    assert tick(app, days=1 / 24)["intervention.monthly_reports"] == 0       # still broken: kept, not re-announced
    assert len(_notes(app, "centre_monthly_report_failed")) == 1

    monkeypatch.undo()
    assert tick(app, days=1 / 24)["intervention.monthly_reports"] == 1       # fixed: the next run delivers
    with app.app_context():
        row = db.session().scalars(select(MonthlyReport)).one()
        assert (row.status, row.attempts, row.error) == ("delivered", 3, None)
    assert len(_notes(app, "centre_monthly_report")) == 1


def test_previous_month_in_the_display_time_zone(app):
    assert monthly.previous_month(date(2027, 1, 1)) == "2026-12"
    assert monthly.previous_month(date(2026, 12, 1)) == "2026-11"
    # no case before the month's end: no report for that centre
    with app.app_context():
        assert monthly.deliver_due(today=date(2020, 2, 1)) == 0

