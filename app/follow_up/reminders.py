"""Reminders before a follow-up is due, and escalation after it is overdue. Both run from the scheduler, work in
batches, and notify through `app.notifications` (the in-platform inbox; the SMS/app connector delivers the same
rows: `Notification.delivered_at`). Every notification carries a dedupe key, so a retried job notifies nobody twice;
every escalation level is a unique row per visit, so each fires once.

Escalation rules are the DMN table `follow_up_escalation` (days overdue, risk level → level, priority); when it is
not deployed the same thresholds apply from settings.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.dialects import postgresql, sqlite

from app.auth import queries as auth_queries
from app.auth.models import User, UserRole
from app.core import clock, logs
from app.core.db import is_postgres, rowcount, session, unit_of_work
from app.notifications.jobs import recipients, task_line
from app.notifications.services import notify
from app.org.queries import township_of
from app.workflows import decisions
from app.workflows.models import HumanTask

from .models import FollowUpEscalation, FollowUpSchedule, FollowUpVisit

log = logs.get("follow_up")
REMINDER_DAYS = int(os.environ.get("YGT_FOLLOW_UP_REMINDER_DAYS", "3"))
LEAD_AFTER_DAYS = int(os.environ.get("YGT_FOLLOW_UP_LEAD_AFTER_DAYS", "7"))
BATCH = 500
DECISION = "follow_up_escalation"
_consent_checks: list[Callable[[int], bool]] = []


def consent_check(fn: Callable[[int], bool]) -> Callable[[int], bool]:
    """Register `fn(resident_id) -> bool`: may the patient be reminded (the notify connector registers its consent
    records here). With no check registered, patients who have a platform account get in-platform reminders."""
    _consent_checks.append(fn)
    return fn


def patient_consents(resident_id: int) -> bool:
    return all(fn(resident_id) for fn in _consent_checks)


def _open_follow_up_tasks(after_id: int, *conditions):
    return list(session().scalars(select(HumanTask).where(
        HumanTask.process_id == "follow_up", HumanTask.status == "open", HumanTask.id > after_id, *conditions)
        .order_by(HumanTask.id).limit(BATCH)))


def send_due_reminders(days: int = REMINDER_DAYS) -> int:
    """Notify the doctor (and a consenting patient) of follow-up tasks due within `days`; once per task and user."""
    now, sent, last = clock.now(), 0, 0
    cache: dict[Any, list[int]] = {}
    while True:
        tasks = _open_follow_up_tasks(last, HumanTask.due_at >= now, HumanTask.due_at <= now + timedelta(days=days))
        for task in tasks:
            due = clock.local(task.due_at).strftime("%m月%d日")
            for uid in recipients(task, cache):
                sent += notify(uid, kind="follow_up_due", title=f"随访将于{due}到期：{task.resident_name or ''}",
                               body=task_line(task, with_due=False), link=f"/tasks/{task.id}", task_id=task.id,
                               dedupe_key=f"follow_up_due:{task.id}:{uid}")
            sent += _remind_patient(task, due)
        session().rollback()
        if len(tasks) < BATCH:
            return sent
        last = tasks[-1].id


def _remind_patient(task, due: str) -> int:
    if task.resident_id is None or not patient_consents(task.resident_id):
        return 0
    sent = 0
    for uid in _patient_accounts(task.resident_id):
        sent += notify(uid, kind="follow_up_due_patient", title=f"您的慢病随访将于{due}进行",
                       body="请按时到村卫生室/卫生院随访，或等待医生电话、上门随访。随访前请按医嘱服药，可先测量血压/血糖。",
                       dedupe_key=f"follow_up_due_patient:{task.id}:{uid}")
    return sent


def _patient_accounts(resident_id: int) -> list[int]:
    return list(session().scalars(select(User.id).join(UserRole, UserRole.user_id == User.id).where(
        User.resident_id == resident_id, UserRole.role == "patient", User.active.is_(True))))


# -- escalation -----------------------------------------------------------------------------------------------

def escalate_overdue() -> int:
    """Escalate overdue follow-ups per `follow_up_escalation`; each (visit, level) once. Returns escalations made."""
    today, made, last = clock.today(), 0, 0
    rules = _rules()
    while True:
        rows = session().execute(
            select(FollowUpVisit.id, FollowUpVisit.due_on, FollowUpSchedule.risk_level, FollowUpSchedule.org_code,
                   HumanTask.id.label("task_id"))
            .join(FollowUpSchedule, FollowUpSchedule.id == FollowUpVisit.schedule_id)
            .join(HumanTask, and_(HumanTask.instance_id == FollowUpVisit.instance_id, HumanTask.status == "open"))
            .where(FollowUpVisit.status == "started", FollowUpVisit.due_on < today, FollowUpVisit.id > last)
            .order_by(FollowUpVisit.id).limit(BATCH)).all()
        session().rollback()
        for row in rows:
            made += _escalate(row, (today - row.due_on).days, rules)
        if len(rows) < BATCH:
            return made
        last = rows[-1].id


def _rules() -> Callable[[int, str | None], dict[str, Any]]:
    pinned = decisions.registry(session())
    if DECISION not in pinned.registry:
        return _settings_rules
    cache: dict[tuple, dict[str, Any]] = {}

    def evaluate(days: int, risk_level: str | None) -> dict[str, Any]:
        key = (min(days, 400), risk_level)
        if key not in cache:
            result = decisions.evaluate(pinned, DECISION, {"days_overdue": key[0], "risk_level": risk_level or "UNKNOWN"})
            cache[key] = {**result["outputs"], "reason": result["reason"], "versions": result["versions"]}
        return cache[key]
    return evaluate


def _settings_rules(days: int, risk_level: str | None) -> dict[str, Any]:
    if days >= LEAD_AFTER_DAYS:
        return {"escalation": "township_lead", "priority": 2, "reason": f"逾期≥{LEAD_AFTER_DAYS}天 (settings)"}
    return {"escalation": "reminder" if days >= 1 else "none", "priority": 3, "reason": "settings"}


def _escalate(row, days: int, rules) -> int:
    outcome = rules(days, row.risk_level)
    level = outcome.get("escalation", "none")
    if level == "none":
        return 0
    with unit_of_work() as s:
        inserted = rowcount(s.execute(_insert_ignore({
            "visit_id": row.id, "task_id": row.task_id, "level": level, "days_overdue": days, "priority": outcome.get("priority", 3),
            "notified": 0, "decision": {k: v for k, v in outcome.items() if k in ("reason", "versions")},
            "created_at": clock.now()})))
        if not inserted:
            return 0
        escalation = s.scalars(select(FollowUpEscalation).where(FollowUpEscalation.visit_id == row.id,
                                                                FollowUpEscalation.level == level)).one()
        escalation.notified = _notify_level(row, level, days)
        return 1


def _insert_ignore(values: dict[str, Any]):
    insert = postgresql.insert if is_postgres() else sqlite.insert
    return insert(FollowUpEscalation).values(**values).on_conflict_do_nothing(index_elements=["visit_id", "level"])


def _notify_level(row, level: str, days: int) -> int:
    task = session().get(HumanTask, row.task_id)
    assert task is not None  # row.task_id comes from escalate_overdue's inner join, and tasks are never deleted
    if level == "township_lead":
        township = township_of(row.org_code) if row.org_code else None
        users = [u.id for u in auth_queries.candidate_users("township_doctor", township.code)] if township else []
        title = f"随访逾期{days}天，请督办：{task.resident_name or ''}"
    else:
        users, title = recipients(task), f"随访已逾期{days}天：{task.resident_name or ''}"
    return sum(notify(uid, kind="follow_up_overdue", title=title, body=task_line(task, with_due=False),
                      link=f"/tasks/{task.id}",
                      task_id=task.id, dedupe_key=f"follow_up_escalation:{row.id}:{level}:{uid}") for uid in users)
