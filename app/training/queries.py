"""Read side of training: lists for the UI, session statistics, and the indicators of wave2 §5.4 — the public
function `training_indicators()` is what the quality dashboards read."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.auth import queries as auth_queries
from app.auth.principal import Principal
from app.core import clock
from app.core.db import session
from app.core.errors import NotFound
from app.org.queries import children, find_org

from . import access
from .credits import LEVEL_OF_ROLE, annual_minimum, credit_totals, meets
from .models import (
    Attendance,
    Enrolment,
    ExamAttempt,
    SatisfactionResponse,
    TrainingPlan,
    TrainingSession,
)
from .services import TRAINEE_ROLES


def plans(p: Principal, *, year: int | None = None) -> list[TrainingPlan]:
    stmt = select(TrainingPlan).where(access.path_filter(TrainingPlan.org_path, p))
    if year:
        stmt = stmt.where(TrainingPlan.year == year)
    return list(session().scalars(stmt.order_by(TrainingPlan.year.desc(), TrainingPlan.org_path, TrainingPlan.id)))


def sessions_of_plan(plan_id: int) -> list[TrainingSession]:
    return list(session().scalars(select(TrainingSession).where(TrainingSession.plan_id == plan_id)
                                  .order_by(TrainingSession.seq)))


def sessions(p: Principal, *, phase: str | None = None, start: date | None = None,
             end: date | None = None) -> list[TrainingSession]:
    """Sessions of the caller's subtree starting between two local dates (inclusive), newest first."""
    stmt = select(TrainingSession).where(access.path_filter(TrainingSession.org_path, p))
    if phase:
        stmt = stmt.where(TrainingSession.phase == phase)
    if start:
        stmt = stmt.where(TrainingSession.starts_at >= _bounds(start, start)[0])
    if end:
        stmt = stmt.where(TrainingSession.starts_at < _bounds(end, end)[1])
    return list(session().scalars(stmt.order_by(TrainingSession.starts_at.desc()).limit(500)))


def my_sessions(p: Principal) -> list[tuple[TrainingSession, Enrolment | None]]:
    """The caller's sessions as a trainee (roster) or lecturer, upcoming first."""
    rows = session().execute(
        select(TrainingSession, Enrolment).outerjoin(
            Enrolment, (Enrolment.session_id == TrainingSession.id) & (Enrolment.user_id == p.user_id))
        .where((Enrolment.id.is_not(None)) | (TrainingSession.lecturer_user_id == p.user_id))
        .order_by(TrainingSession.starts_at.desc()).limit(200))
    return [(s, e) for s, e in rows]


def session_stats(session_id: int) -> dict[str, Any]:
    """应到/实到/签到率, 迟到, 考试参与率/合格率, 满意度 of one session (F5.5)."""
    enrolments = list(session().scalars(select(Enrolment).where(Enrolment.session_id == session_id)))
    expected = [e for e in enrolments if e.response != "declined"]
    records = list(session().scalars(select(Attendance).where(Attendance.session_id == session_id)))
    present = [a for a in records if (a.attended_hours is None and a.signed_in_at) or (a.attended_hours or 0) > 0]
    attempts = list(session().scalars(select(ExamAttempt).where(ExamAttempt.session_id == session_id)))
    sat = {a.user_id for a in attempts if a.status == "submitted"}
    passed = {a.user_id for a in attempts if a.passed}
    first_sat = {a.user_id for a in attempts if a.attempt_no == 1 and a.status == "submitted"}
    first_passed = {a.user_id for a in attempts if a.attempt_no == 1 and a.passed}
    answers = list(session().scalars(select(SatisfactionResponse).where(
        SatisfactionResponse.session_id == session_id)))
    eligible = [a for a in records if (a.attended_hours or 0) > 0] if any(
        a.attended_hours is not None for a in records) else records
    return {
        "roster": len(enrolments), "declined": len(enrolments) - len(expected), "expected": len(expected),
        "signed_in": len(records), "present": len(present), "late": sum(1 for a in records if a.late_minutes > 0),
        "manual": sum(1 for a in records if a.sign_in_method == "manual"),
        "sign_in_rate": _rate(len(records), len(expected)),
        "exam_eligible": len(eligible), "exam_sat": len(sat), "exam_passed": len(passed),
        "exam_participation_rate": _rate(len(sat), len(eligible)), "pass_rate": _rate(len(passed), len(sat)),
        "first_pass_rate": _rate(len(first_passed), len(first_sat)),
        "satisfaction_responses": len(answers),
        "satisfaction_rate": _rate(sum(1 for a in answers if a.overall >= 4), len(answers)),
        "satisfaction_mean": round(sum(a.overall for a in answers) / len(answers), 2) if answers else None,
        "comments": [a.comment for a in answers if a.comment][:50],
    }


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return clock.start_of_day(start), clock.start_of_day(end + timedelta(days=1))


def training_indicators(org_code: str, *, start: date, end: date) -> dict[str, Any]:
    """The training indicators of wave2 §5.4 for an organization subtree and a period (local dates, inclusive).

    签到率 = signed in ÷ expected (roster less those who declined), over sessions starting in the period whose
    sign-in is over;
    考试合格率 = passed (first attempt or make-up) ÷ sat; 参训覆盖率 = staff in the target roles with attended 学时
    in the period ÷ staff in those roles; 学分达标率 = staff whose credits in the year of `end` meet the annual
    minimum (training_annual_minimum) ÷ staff; 满意度 = answers with overall ≥ 4 ÷ answers.
    Trainees count under their own organization. Each figure comes with numerator and denominator."""
    org = find_org(org_code)
    if org is None:
        raise NotFound("机构不存在 (organization not found)", org_code=org_code)
    lo, hi = _bounds(start, end)
    in_period = select(TrainingSession.id).where(TrainingSession.starts_at >= lo, TrainingSession.starts_at < hi,
                                                 TrainingSession.phase != "cancelled")
    under = Enrolment.org_path.startswith(org.path, autoescape=True)
    s = session()
    held = in_period.where(TrainingSession.attendance_closed_at.is_not(None))   # sign-in is over
    expected = s.scalar(select(func.count()).select_from(Enrolment).where(
        under, Enrolment.session_id.in_(held), Enrolment.response != "declined")) or 0
    signed = s.scalar(select(func.count()).select_from(Attendance).join(
        Enrolment, (Enrolment.session_id == Attendance.session_id) & (Enrolment.user_id == Attendance.user_id))
        .where(under, Attendance.session_id.in_(held))) or 0
    attempts = s.execute(select(ExamAttempt.user_id, ExamAttempt.session_id, ExamAttempt.status, ExamAttempt.passed)
                         .join(Enrolment, (Enrolment.session_id == ExamAttempt.session_id)
                               & (Enrolment.user_id == ExamAttempt.user_id))
                         .where(under, ExamAttempt.session_id.in_(in_period))).all()
    sat = {(u, sid) for u, sid, st, _ in attempts if st == "submitted"}
    passed = {(u, sid) for u, sid, _, ok in attempts if ok}
    staff = auth_queries.staff_in(TRAINEE_ROLES, [org.path])
    staff_ids = [u.id for u, _, _ in staff]
    trained = set(s.scalars(select(Attendance.user_id).where(
        Attendance.session_id.in_(in_period), Attendance.attended_hours > 0,
        Attendance.user_id.in_(staff_ids)))) if staff_ids else set()
    totals = credit_totals(staff_ids, end.year)
    meeting = sum(1 for u, role, path in staff if meets(
        totals.get(u.id, {}), annual_minimum(role, LEVEL_OF_ROLE.get(role, _level(path)))))
    answers = s.execute(select(SatisfactionResponse.overall).join(
        Enrolment, (Enrolment.session_id == SatisfactionResponse.session_id)
        & (Enrolment.user_id == SatisfactionResponse.user_id)).where(
        under, SatisfactionResponse.session_id.in_(in_period))).scalars().all()
    return {
        "org_code": org.code, "org_name": org.name, "start": start.isoformat(), "end": end.isoformat(),
        "sessions": s.scalar(select(func.count()).select_from(TrainingSession).where(
            TrainingSession.id.in_(in_period), TrainingSession.org_path.startswith(org.path, autoescape=True))) or 0,
        "sign_in_rate": _indicator("签到率", signed, expected),
        "pass_rate": _indicator("考试合格率", len(passed & sat), len(sat)),
        "coverage": _indicator("参训覆盖率", len(trained), len(staff_ids)),
        "credit_compliance": _indicator(f"{end.year}年学分达标率", meeting, len(staff_ids)),
        "satisfaction": _indicator("满意度", sum(1 for a in answers if a >= 4), len(answers)),
    }


def _level(org_path: str) -> str:
    code = [c for c in org_path.strip("/").split("/") if c][-1]
    org = find_org(code)
    return org.level if org else "county"


def _indicator(name: str, numerator: int, denominator: int) -> dict[str, Any]:
    return {"name": name, "numerator": numerator, "denominator": denominator, "value": _rate(numerator, denominator)}


def indicators_by_child(p: Principal, org_code: str | None, *, start: date, end: date) -> dict[str, Any]:
    """The dashboard: the indicators of an organization and of each organization directly below it."""
    org = find_org(org_code or p.org_code)
    if org is None or not access.oversees(p, org.path):
        raise NotFound("机构不存在 (organization not found)")
    below = children(org.code, exclude_levels=("village",))
    return {"total": training_indicators(org.code, start=start, end=end),
            "children": [training_indicators(c.code, start=start, end=end) for c in below]}
