"""Use cases of training plans and sessions: make and change plans, start the sessions of a plan (cohort start,
with a dry run), the roster and its notice, answers to the notice, rescheduling and cancelling.

Each use case owns its transaction and knows nothing of Flask; the process `training_session` drives the rest
through the operators in `operators.py`.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.auth import queries as auth_queries
from app.auth.principal import Principal
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Invalid
from app.notifications.services import notify
from app.org.queries import find_org, root_org
from app.tasks import completion as task_completion
from app.tasks import queries as task_queries
from app.vocabulary import Role, TrainingMode
from app.workflows import EngineError, runner
from connectors.notify.services import queue_message

from . import access, geo
from .errors import PlanNotFound, SessionLocked, SessionNotFound
from .models import (
    ASSESSMENTS,
    CATEGORIES,
    LEVELS,
    MODES,
    Enrolment,
    TrainingPlan,
    TrainingSession,
)
from .settings import settings

PROCESS_ID = "training_session"
TRAINEE_ROLES = (Role.COUNTY_SPECIALIST.value, Role.TOWNSHIP_DOCTOR.value, Role.TOWNSHIP_PUBLIC_HEALTH.value,
                 Role.VILLAGE_DOCTOR.value, Role.PHARMACIST.value)
# fields a manager may still change once the session's process runs (before sign-in opens); the rest is what
# the 科教科 approved and what credits are computed from
AFTER_START = {"topic", "lecturer_name", "lecturer_title", "lecturer_org", "lecturer_user_id", "starts_at", "ends_at",
               "venue", "venue_lat", "venue_lon", "coordinate_system", "geofence_m", "online_url", "budget_yuan"}
EDITABLE_PHASES = ("planned", "pending_approval", "revising", "approved", "notified")


def local(at: datetime) -> str:
    """A time as people here read it (display time zone)."""
    return clock.local(at).strftime("%Y-%m-%d %H:%M")


# -- plans ---------------------------------------------------------------------------------------------------

def create_plan(p: Principal, *, year: int, title: str, org_code: str | None = None, note: str = "") -> TrainingPlan:
    """Create an annual plan for the caller's organization (or one below it)."""
    org = find_org(org_code or p.org_code)
    if org is None:
        raise Invalid("机构不存在", code="invalid_org_code", org_code=org_code)
    access.require_manager(p, org.path)
    with unit_of_work() as s:
        now = clock.now()
        plan = TrainingPlan(org_code=org.code, org_path=org.path, year=year, title=title.strip(), note=note,
                            created_by=p.username, created_at=now, updated_at=now)
        s.add(plan)
        s.flush()
        return plan


def get_plan(p: Principal, plan_id: int) -> TrainingPlan:
    plan = session().get(TrainingPlan, plan_id)
    if plan is None or not access.oversees(p, plan.org_path):
        raise PlanNotFound("培训计划不存在 (plan not found)", plan_id=plan_id)
    return plan


def update_plan(p: Principal, plan_id: int, **changes: Any) -> TrainingPlan:
    with unit_of_work():
        plan = get_plan(p, plan_id)
        access.require_manager(p, plan.org_path)
        for key in ("title", "note", "year"):
            if key in changes and changes[key] is not None:
                setattr(plan, key, changes[key])
        plan.updated_at = clock.now()
        return plan


# -- sessions (plan rows) ------------------------------------------------------------------------------------

def _check_targets(plan: TrainingPlan, data: dict[str, Any]) -> None:
    roles = data.get("target_roles") or []
    unknown = sorted(set(roles) - set(TRAINEE_ROLES))
    if unknown:
        raise Invalid("培训对象角色不正确", code="invalid_target_roles", roles=unknown)
    for code in data.get("target_org_codes") or []:
        org = find_org(code)
        if org is None or not org.path.startswith(plan.org_path):
            raise Invalid("培训对象机构须在本计划机构范围内 (targets must be the plan's own staff)",
                          code="target_outside_plan", org_code=code)


def _check_session(data: dict[str, Any]) -> None:
    starts, ends = data["starts_at"], data["ends_at"]
    if ends <= starts:
        raise Invalid("结束时间须晚于开始时间", code="invalid_time_range")
    if float(data["hours"]) > (ends - starts).total_seconds() / 3600 + 1e-6:
        raise Invalid("学时不能超过培训时长", code="hours_exceed_duration")
    if data["mode"] == "offline" and (data.get("venue_lat") is None or data.get("venue_lon") is None):
        raise Invalid("线下培训须标注场地位置（经纬度），用于签到地理围栏", code="venue_location_required")
    if data["mode"] != "offline" and not data.get("online_url"):
        raise Invalid("线上培训须提供直播/课程链接", code="online_url_required")
    for key, allowed in (("category", CATEGORIES), ("level", LEVELS), ("mode", MODES),
                         ("assessment", ASSESSMENTS)):
        if data.get(key) not in allowed:
            raise Invalid(f"{key} 取值不正确", code="validation_error", field=key, allowed=list(allowed))


def _apply(row: TrainingSession, data: dict[str, Any]) -> None:
    data = dict(data)
    system = data.pop("coordinate_system", "wgs84") or "wgs84"
    if data.get("venue_lat") is not None and data.get("venue_lon") is not None:
        data["venue_lat"], data["venue_lon"] = geo.to_wgs84(float(data["venue_lat"]), float(data["venue_lon"]),
                                                            system)
    for key, value in data.items():
        setattr(row, key, value)


def add_session(p: Principal, plan_id: int, data: dict[str, Any]) -> TrainingSession:
    """Add a row (a session) to a plan."""
    with unit_of_work() as s:
        plan = get_plan(p, plan_id)
        access.require_manager(p, plan.org_path)
        data = {"target_roles": [], "target_org_codes": [], "assessment": "exam",
                "pass_mark": settings().exam_pass_mark, **data}
        _check_targets(plan, data)
        _check_session(data)
        seq = (s.scalar(select(func.max(TrainingSession.seq)).where(TrainingSession.plan_id == plan.id)) or 0) + 1
        now = clock.now()
        row = TrainingSession(plan_id=plan.id, seq=seq, org_code=plan.org_code, org_path=plan.org_path,
                              phase="planned", created_by=p.username, created_at=now, updated_at=now)
        _apply(row, data)
        s.add(row)
        s.flush()
        return row


def get_session(p: Principal, session_id: int) -> TrainingSession:
    row = session().get(TrainingSession, session_id)
    return access.check_readable(p, row, enrolment_of(session_id, p.user_id) if row else None)


def managed_session(p: Principal, session_id: int, *, lock: bool = False) -> TrainingSession:
    stmt = select(TrainingSession).where(TrainingSession.id == session_id)
    row = session().scalars(stmt.with_for_update() if lock else stmt).first()
    if row is None or not access.oversees(p, row.org_path):
        raise SessionNotFound("培训不存在 (training session not found)", session_id=session_id)
    access.require_manager(p, row.org_path)
    return row


def update_session(p: Principal, session_id: int, changes: dict[str, Any]) -> TrainingSession:
    """Change a plan row. Before its process starts anything may change; afterwards only time, place and lecturer,
    and only until sign-in opens (the roster is told of a new time or place)."""
    with unit_of_work():
        row = managed_session(p, session_id, lock=True)
        if row.phase not in EDITABLE_PHASES:
            raise SessionLocked("签到已开始，培训安排不能再修改 (sign-in has opened)", phase=row.phase)
        if row.instance_id is not None:
            locked = sorted(set(changes) - AFTER_START)
            if locked:
                raise SessionLocked("培训已提交审批，项目级别、对象等不能修改 (locked after submission)",
                                    fields=locked)
        plan = session().get(TrainingPlan, row.plan_id)
        merged = {**_row_values(row), **changes}
        _check_targets(plan, merged)
        _check_session(merged)
        moved = any(changes.get(k) is not None and changes.get(k) != getattr(row, k, None)
                    for k in ("starts_at", "ends_at", "venue", "venue_lat", "venue_lon"))
        _apply(row, changes)
        row.updated_at = clock.now()
        if moved and row.instance_id is not None and row.phase in ("approved", "notified"):
            _reschedule(p, row)
        return row


def _reschedule(p: Principal, row: TrainingSession) -> None:
    """Wake the process waiting for sign-in to open (it re-reads the times and tells the roster); while answers are
    still being collected it has not read the times yet, so the roster is told here."""
    try:
        runner.correlate(row.instance_id, "training_session_changed", {"session_id": row.id}, runner.Actor.of(p),
                         interactive=True)
    except EngineError:
        announce_change(row.id)


def _row_values(row: TrainingSession) -> dict[str, Any]:
    keys = ("topic", "category", "level", "mode", "starts_at", "ends_at", "hours", "venue_lat", "venue_lon",
            "online_url", "assessment", "target_roles", "target_org_codes")
    return {k: getattr(row, k) for k in keys}


def cancel_session(p: Principal, session_id: int, *, reason: str) -> TrainingSession:
    """Cancel a session: its process ends and the roster is told."""
    with unit_of_work():
        row = managed_session(p, session_id, lock=True)
        if row.phase in ("completed", "cancelled"):
            raise SessionLocked("培训已结束或已取消", phase=row.phase)
        if row.phase not in EDITABLE_PHASES:
            raise SessionLocked("签到已开始，不能取消", phase=row.phase)
        if row.instance_id is not None:
            runner.terminate_instance(row.instance_id, runner.Actor.of(p), reason=reason)
        row.phase, row.updated_at = "cancelled", clock.now()
        for e in enrolments_of(row.id):
            notify(e.user_id, kind="training_cancelled", title=f"培训取消：{row.topic}", body=reason,
                   link=f"/training/my/{row.id}", dedupe_key=f"training:{row.id}:cancelled:{e.user_id}")
        return row


# -- cohort start over a plan's rows -------------------------------------------------------------------------

def roster_of(row: TrainingSession) -> list[tuple[Any, str, str]]:
    """The target staff of a session now: active users in the target roles and organizations."""
    roles = row.target_roles or list(TRAINEE_ROLES)
    paths = []
    for code in row.target_org_codes or [row.org_code]:
        org = find_org(code)
        if org is not None:
            paths.append(org.path)
    return [t for t in auth_queries.staff_in(roles, paths) if t[0].id != row.lecturer_user_id]


def _start_problem(row: TrainingSession, now: datetime) -> str | None:
    if row.phase == "cancelled":
        return "cancelled"
    if row.instance_id is not None:
        return "already_started"
    if row.ends_at <= now:
        return "in_the_past"
    if not roster_of(row):
        return "empty_roster"
    return None


def start_plan(p: Principal, plan_id: int, *, dry_run: bool, session_ids: list[int] | None = None
               ) -> dict[str, Any]:
    """Start one `training_session` instance per plan row not started yet (all rows, or those named).

    A dry run starts nothing and reports, per row, what would happen: started, or skipped and why
    (already started, in the past, empty roster, cancelled)."""
    plan = get_plan(p, plan_id)
    access.require_manager(p, plan.org_path)
    rows = list(session().scalars(select(TrainingSession).where(TrainingSession.plan_id == plan.id)
                                  .order_by(TrainingSession.seq)))
    if session_ids:
        rows = [r for r in rows if r.id in set(session_ids)]
    now, report = clock.now(), []
    for row in rows:
        problem = _start_problem(row, now)
        entry = {"session_id": row.id, "seq": row.seq, "topic": row.topic, "starts_at": row.starts_at,
                 "roster_size": len(roster_of(row)) if problem in (None, "already_started") else 0}
        if problem:
            report.append({**entry, "result": "skipped", "reason": problem})
        elif dry_run:
            report.append({**entry, "result": "would_start"})
        else:
            instance_id = _start_session(p, row.id)
            report.append({**entry, "result": "started", "instance_id": instance_id})
    counts = {k: sum(1 for r in report if r["result"] == k) for k in ("started", "would_start", "skipped")}
    return {"plan_id": plan.id, "dry_run": dry_run, "sessions": report, **counts}


def _start_session(p: Principal, session_id: int) -> int:
    with unit_of_work() as s:
        row = s.scalars(select(TrainingSession).where(TrainingSession.id == session_id).with_for_update()).one()
        if row.instance_id is not None:          # a concurrent start won
            return row.instance_id
        top = root_org()
        root = top.code if top is not None else row.org_code
        inst = runner.start_instance(PROCESS_ID, actor=runner.Actor.of(p), org_code=row.org_code,
                                     business_key=f"training-{row.id}",
                                     data={"session_id": row.id, "topic": row.topic, "org_code": row.org_code,
                                           "approval_org": root, "province": settings().province,
                                           "level": row.level, "mode": row.mode, "category": row.category,
                                           "assessment": row.assessment,
                                           "starts_at_label": local(row.starts_at)})
        row.instance_id, row.phase, row.updated_at = inst.id, "pending_approval", clock.now()
        return inst.id


# -- roster, notice and answers ------------------------------------------------------------------------------

def enrolment_of(session_id: int, user_id: int) -> Enrolment | None:
    return session().scalars(select(Enrolment).where(Enrolment.session_id == session_id,
                                                     Enrolment.user_id == user_id)).first()


def enrolments_of(session_id: int) -> list[Enrolment]:
    return list(session().scalars(select(Enrolment).where(Enrolment.session_id == session_id)
                                  .order_by(Enrolment.org_path, Enrolment.user_id)))


def confirm_deadline(row: TrainingSession, now: datetime) -> datetime:
    """Answers are due a day before the start; a session planned at short notice gives until sign-in opens."""
    day_before = row.starts_at - timedelta(days=1)
    opens = row.starts_at - timedelta(minutes=settings().sign_in_opens_min)
    return day_before if day_before > now + timedelta(hours=2) else max(opens, now)


def publish_notice(session_id: int) -> dict[str, Any]:
    """Snapshot the roster, tell everyone on it (inbox + SMS), and return who must answer and by when."""
    with unit_of_work() as s:
        row = s.get(TrainingSession, session_id)
        now = clock.now()
        known = {e.user_id for e in enrolments_of(row.id)}
        trainees = []
        for user, role, path in roster_of(row):
            trainees.append(user.id)
            if user.id not in known:
                s.add(Enrolment(session_id=row.id, user_id=user.id, org_code=user.org_code, org_path=path,
                                role=role, response="pending", notified_at=now))
            _tell(row, user.id, "notice")
        row.phase, row.updated_at = "notified", now
        return {"trainee_ids": trainees, "confirm_by": confirm_deadline(row, now).isoformat(),
                "roster_size": len(trainees)}


def _tell(row: TrainingSession, user_id: int, what: str) -> None:
    """One inbox notice and one SMS per trainee and event (both idempotent by key)."""
    place = row.venue if row.mode == "offline" else TrainingMode.label_of(row.mode)
    title = {"notice": f"培训通知：{row.topic}", "changed": f"培训时间/地点变更：{row.topic}"}[what]
    body = f"{local(row.starts_at)} 至 {local(row.ends_at)[-5:]}，{place}，学时 {row.hours:g}"
    stamp = int(row.updated_at.timestamp()) if what == "changed" else 0
    key = f"training:{row.id}:{what}:{stamp}:{user_id}"
    notify(user_id, kind=f"training_{what}", title=title, body=body, link=f"/training/my/{row.id}", dedupe_key=key)
    queue_message("sms", recipient=("user", user_id), template_code=f"SMS_TRAINING_{what.upper()}",
                  params={"topic": row.topic[:20], "time": local(row.starts_at), "place": place[:20]},
                  idempotency_key=f"{key}:sms")


def announce_change(session_id: int) -> dict[str, Any]:
    with unit_of_work() as s:
        row = s.get(TrainingSession, session_id)
        for e in enrolments_of(row.id):
            if e.response != "declined":
                _tell(row, e.user_id, "changed")
        return {"announced": True}


def respond(p: Principal, session_id: int, *, attend: bool, decline_reason: str | None = None) -> Enrolment:
    """A trainee confirms or declines: completes their confirmation task (which records the answer)."""
    with unit_of_work():
        row = get_session(p, session_id)
        enrolment = enrolment_of(row.id, p.user_id)
        if enrolment is None:
            raise SessionNotFound("您不在本次培训名单中 (not on the roster)")
        task = task_queries.open_task_of(row.instance_id, "confirm_enrolment", p.user_id) if row.instance_id else None
        data = {"attend": attend, **({"decline_reason": decline_reason} if not attend else {})}
        if task is not None:
            task_completion.complete(p, task.id, data=data)
        else:                                   # answering after the deadline (or a second time) still counts
            _record_answer(enrolment, data)
        return enrolment


def _record_answer(enrolment: Enrolment, data: dict[str, Any]) -> None:
    attend = bool(data.get("attend"))
    enrolment.response = "confirmed" if attend else "declined"
    enrolment.decline_reason = None if attend else (data.get("decline_reason") or "")
    enrolment.responded_at = clock.now()


def on_enrolment_confirmed(task, data, actor_name: str) -> None:
    """Record a trainee's answer in the same transaction that completes their confirmation task."""
    session_id = (task.data or {}).get("session_id")
    enrolment = enrolment_of(int(session_id), task.assignee_id) if session_id and task.assignee_id else None
    if enrolment is not None:
        _record_answer(enrolment, dict(data))


def on_session_approved(task, data, actor_name: str) -> None:
    row = session().get(TrainingSession, int((task.data or {}).get("session_id")))
    if row is not None:
        row.approved_by = actor_name
        row.approval_comment = data.get("approval_comment") or None
        row.phase = "approved" if data.get("approved") else "revising"
        row.updated_at = clock.now()


def on_session_revised(task, data, actor_name: str) -> None:
    row = session().get(TrainingSession, int((task.data or {}).get("session_id")))
    if row is not None:
        row.phase = "pending_approval" if data.get("action") == "resubmit" else "cancelled"
        row.updated_at = clock.now()


def on_summary_written(task, data, actor_name: str) -> None:
    """Keep the summary the trainer wrote with the session (for the PDF), in the completing transaction."""
    row = session().get(TrainingSession, int((task.data or {}).get("session_id")))
    if row is not None:
        row.summary = {"issues": data.get("issues", ""), "improvements": data.get("improvements", ""),
                       "notes": data.get("notes", ""), "by": actor_name, "at": clock.now().isoformat()}
        row.phase, row.updated_at = "summary", clock.now()


def set_phase(session_id: int, phase: str, **fields: Any) -> TrainingSession:
    with unit_of_work() as s:
        row = s.get(TrainingSession, session_id)
        row.phase, row.updated_at = phase, clock.now()
        for key, value in fields.items():
            setattr(row, key, value)
        return row


def end_attendance(p: Principal, session_id: int) -> TrainingSession:
    """The trainer ends sign-in/sign-out now (the session finished early, or everyone has signed out)."""
    with unit_of_work():
        row = managed_session(p, session_id, lock=True)
        if row.phase != "sign_in_open":
            raise SessionLocked("当前不在签到阶段 (sign-in is not open)", phase=row.phase)
        runner.correlate(row.instance_id, "training_attendance_closed", {"session_id": row.id},
                         runner.Actor.of(p), interactive=True)
        return row
