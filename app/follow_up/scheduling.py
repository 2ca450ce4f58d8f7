"""The schedule side of follow-up: keep each resident's next due date, and when cycles come due create their visit
rows with set-based SQL and start one short `follow_up` instance per visit (so no instance lives for years).

Dates are clinic dates (`clock.today()`, the display time zone). A cycle is generated `LEAD_DAYS` before it is due, so the task sits in the
doctor's inbox with its due date (and reminders) ahead of time.
"""
from __future__ import annotations

import os
from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.care_plans import queries as plans
from app.care_plans.services import resident_age, resident_ages
from app.core import clock, logs
from app.core.db import is_postgres, session, unit_of_work
from app.jobs.queue import enqueue
from app.workflows import batch, runner
from app.workflows.deploy import latest_process_versions

from . import queries
from .models import FollowUpSchedule, FollowUpVisit

log = logs.get("follow_up")
LEAD_DAYS = int(os.environ.get("YGT_FOLLOW_UP_LEAD_DAYS", "7"))
HIGH_RISK = ("HIGH", "VERY_HIGH")
START_BATCH = 1000
BATCH_KIND = "follow_up"
# visits per chunk (one transaction, one rq job): every job is a freshly forked work horse that reads and parses the
# version's decisions, compiles its statements and templates again (≈ 0.4 s of CPU per job, measured 2026-12-05),
# so 2,000 rather than 500 (≈ +90 MB peak in the horse; 100,000 due = 50 jobs, still spread over the workers)
BATCH_CHUNK = int(os.environ.get("YGT_FOLLOW_UP_BATCH_CHUNK", "2000"))
BATCH_STARTS = os.environ.get("YGT_FOLLOW_UP_BATCH", "1") != "0"


def upsert_schedule(resident_id: int, disease: str, *, care_plan_id: int | None, risk_level: str | None,
                    interval_days: int, org_code: str | None, org_path: str | None) -> FollowUpSchedule:
    """Create or update the schedule when a plan comes into force; a shorter interval brings the next date forward."""
    today = clock.today()
    with unit_of_work() as s:
        row = s.scalars(select(FollowUpSchedule).where(FollowUpSchedule.resident_id == resident_id,
                                                       FollowUpSchedule.disease == disease).with_for_update()).first()
        if row is None:
            row = FollowUpSchedule(resident_id=resident_id, disease=disease, next_due_on=today + timedelta(interval_days),
                                   cycle_no=0, consecutive_uncontrolled=0, status="active")
            s.add(row)
        elif row.open_visit_id is None:
            row.next_due_on = min(row.next_due_on, (row.last_visit_on or today) + timedelta(interval_days))
        row.care_plan_id, row.risk_level, row.interval_days = care_plan_id, risk_level, interval_days
        row.org_code, row.org_path, row.status, row.updated_at = org_code, org_path, "active", clock.now()
        s.flush()
        return row


def generate_due_cycles(*, today: date | None = None, lead_days: int = LEAD_DAYS) -> int:
    """Create a visit row for every active schedule due within `lead_days` that has no open cycle (two set-based
    statements, idempotent: the (schedule, cycle) key and `open_visit_id` stop a second run); returns rows made."""
    horizon = (today or clock.today()) + timedelta(days=lead_days)
    now = clock.now()
    due = and_(FollowUpSchedule.status == "active", FollowUpSchedule.open_visit_id.is_(None),
               FollowUpSchedule.next_due_on <= horizon)
    with unit_of_work() as s:
        source = select(FollowUpSchedule.id, FollowUpSchedule.resident_id, FollowUpSchedule.disease,
                        FollowUpSchedule.cycle_no + 1, FollowUpSchedule.next_due_on, literal("scheduled"),
                        literal(now, FollowUpVisit.created_at.type)).where(due)
        columns = ["schedule_id", "resident_id", "disease", "cycle_no", "due_on", "status", "created_at"]
        made = len(s.execute(_insert_ignore(FollowUpVisit, columns, source).returning(FollowUpVisit.id)).all())
        of_new_visit = and_(FollowUpVisit.schedule_id == FollowUpSchedule.id,
                            FollowUpVisit.cycle_no == FollowUpSchedule.cycle_no + 1)
        s.execute(update(FollowUpSchedule).where(due, exists(select(FollowUpVisit.id).where(of_new_visit)))
                  .values(open_visit_id=select(FollowUpVisit.id).where(of_new_visit).scalar_subquery(),
                          cycle_no=FollowUpSchedule.cycle_no + 1, updated_at=now)
                  .execution_options(synchronize_session=False))
    return made


def _insert_ignore(model, columns: list[str], source):
    if is_postgres():
        return pg_insert(model).from_select(columns, source).on_conflict_do_nothing()
    return sqlite_insert(model).from_select(columns, source).on_conflict_do_nothing()


def pending_visit_ids(limit: int = START_BATCH, after_id: int = 0) -> list[int]:
    """Visits scheduled but without an instance yet (a failed or not-yet-run start job)."""
    return list(session().scalars(select(FollowUpVisit.id).where(
        FollowUpVisit.status == "scheduled", FollowUpVisit.instance_id.is_(None), FollowUpVisit.id > after_id)
        .order_by(FollowUpVisit.id).limit(limit)))


def enqueue_starts() -> int:
    """Start the instances of every visit that has none as one batch start (`app.workflows.batch`: chunks of
    `BATCH_CHUNK` visits, one rq job each, progress on the batch row); while an earlier batch still runs, its
    pending chunks are re-enqueued instead (resume after a killed worker). Returns the visits put in a new batch.
    `YGT_FOLLOW_UP_BATCH=0` falls back to one start job per visit."""
    if not _deployed("follow_up"):
        return 0
    if not BATCH_STARTS:
        return _enqueue_single_starts()
    running = batch.unfinished(BATCH_KIND)
    if running is not None:
        batch.resume(running)
        return 0
    ids: list[int] = []
    while True:
        found = pending_visit_ids(limit=50_000, after_id=ids[-1] if ids else 0)
        ids.extend(found)
        if len(found) < 50_000:
            break
    session().rollback()                           # end the read transaction before jobs run (eager mode)
    if not ids:
        return 0
    batch.create_batch(BATCH_KIND, "follow_up", (batch.StartItem(ref=str(v), business_key=f"follow_up:{v}")
                                                 for v in ids),
                       created_by="scheduler", label=f"随访周期 {clock.today().isoformat()}", chunk_size=BATCH_CHUNK)
    return len(ids)


def _enqueue_single_starts() -> int:
    count, last = 0, 0
    while True:
        ids = pending_visit_ids(after_id=last)
        session().rollback()                       # end the read transaction before jobs run (eager mode)
        for visit_id in ids:
            enqueue("app.follow_up.jobs.start_cycle", visit_id, job_id=f"follow-up-start-{visit_id}", retries=2)
        count += len(ids)
        if len(ids) < START_BATCH:
            return count
        last = ids[-1]


def prepare_batch(s, items: list[batch.StartItem]) -> dict[str, batch.StartItem | str | None]:
    """The batch source of follow-up cycles: lock the chunk's visits (a visit started meanwhile, singly or by an
    earlier run, is skipped) and compute each cycle's data, as `start_cycle` does."""
    ids = [int(i.ref) for i in items]
    visits = {v.id: v for v in s.scalars(select(FollowUpVisit).where(FollowUpVisit.id.in_(ids))
                                         .order_by(FollowUpVisit.id).with_for_update())}
    schedules = {sc.id: sc for sc in s.scalars(select(FollowUpSchedule).where(
        FollowUpSchedule.id.in_({v.schedule_id for v in visits.values()})))}
    known = {"plans": plans.plan_summaries([(sc.resident_id, sc.disease) for sc in schedules.values()]),
             "ages": resident_ages([sc.resident_id for sc in schedules.values()]),
             "last": queries.last_values_many(list(schedules))}
    out: dict[str, batch.StartItem | str | None] = {}
    for item in items:
        visit = visits.get(int(item.ref))
        if visit is None or visit.instance_id is not None or visit.status != "scheduled":
            out[item.ref] = None
            continue
        schedule = schedules[visit.schedule_id]
        try:
            data = cycle_data(schedule, visit, known)
        except Exception as exc:  # noqa: BLE001 — bad data: this visit fails (reported on the batch), others start
            out[item.ref] = f"{type(exc).__name__}: {exc}"
            continue
        out[item.ref] = batch.StartItem(ref=item.ref, business_key=f"follow_up:{visit.id}", data=data,
                                        resident_id=schedule.resident_id, org_code=schedule.org_code)
    return out


def batch_started(s, started: dict[str, int]) -> None:
    """The batch wrote the instances: record them on their visits (one executemany UPDATE)."""
    s.execute(update(FollowUpVisit), [{"id": int(ref), "instance_id": inst_id, "status": "started"}
                                      for ref, inst_id in started.items()])


def _deployed(process_id: str) -> bool:
    return process_id in latest_process_versions(session())


def start_cycle(visit_id: int) -> int | None:
    """Start the `follow_up` instance of one visit (once: the locked visit row keeps its instance id)."""
    with unit_of_work() as s:
        visit = s.scalars(select(FollowUpVisit).where(FollowUpVisit.id == visit_id).with_for_update()).first()
        if visit is None or visit.instance_id is not None or visit.status != "scheduled":
            return None
        schedule = s.get(FollowUpSchedule, visit.schedule_id)
        assert schedule is not None  # a visit is only created under its schedule, and schedules are never deleted
        inst = runner.start_instance("follow_up", data=cycle_data(schedule, visit), actor=runner.Actor("scheduler"),
                                     business_key=f"follow_up:{visit.id}", resident_id=schedule.resident_id,
                                     org_code=schedule.org_code)
        visit.instance_id, visit.status = inst.id, "started"
        return inst.id


def cycle_data(schedule: FollowUpSchedule, visit: FollowUpVisit, known: dict[str, Any] | None = None
               ) -> dict[str, Any]:
    """What one cycle starts with: who, which disease and risk, the plan's drugs and targets, the last values and
    any device readings (form defaults), and whether the previous follow-up was uncontrolled (`prev_uncontrolled`).
    `known` holds the plan, age and last values read for a whole batch chunk (`prepare_batch`)."""
    if known is not None:
        plan = known["plans"].get((schedule.resident_id, schedule.disease)) or {}
        age = known["ages"].get(schedule.resident_id) or 0
        last = known["last"].get(schedule.id) or {}
    else:
        plan = plans.plan_summary(schedule.resident_id, schedule.disease) or {}
        age = resident_age(schedule.resident_id) or 0
        last = queries.last_values(schedule.id)
    return {
        "resident_id": schedule.resident_id, "disease": schedule.disease, "risk_level": schedule.risk_level,
        "high_risk": schedule.risk_level in HIGH_RISK, "schedule_id": schedule.id, "visit_id": visit.id,
        "cycle_no": visit.cycle_no, "due_on": visit.due_on.isoformat(), "due_at": clock.end_of_day(visit.due_on).astimezone(UTC).isoformat(),
        "age": age,
        "prev_uncontrolled": schedule.consecutive_uncontrolled >= 1,
        "plan": plan, "last": last, "device": schedule.latest_device or {},
        "org_code": schedule.org_code,
    }


def count_due(today: date | None = None) -> int:
    horizon = (today or clock.today()) + timedelta(days=LEAD_DAYS)
    return session().scalar(select(func.count()).select_from(FollowUpSchedule).where(
        FollowUpSchedule.status == "active", FollowUpSchedule.next_due_on <= horizon)) or 0
