"""Notification producers that run outside a request: new tasks (after the step that created them commits) and
the overdue sweep (`app.notifications.jobs.notify_overdue`, run by the scheduler). Both are idempotent."""
from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import object_session

from app.auth import queries as auth_queries
from app.auth.principal import NON_TREATING_ROLES, is_client_name
from app.auth.services import find_user
from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.jobs.queue import enqueue_after_commit
from app.vocabulary import Disease, RiskLevel
from app.workflows import hooks
from app.workflows.models import HumanTask

from .services import notify

log = logs.get("notifications")
MAX_GROUP = 20              # a task offered to more candidates than this is not announced one by one
OVERDUE_WINDOW = timedelta(days=2)
BATCH = 1000


def recipients(task: HumanTask, cache: dict | None = None) -> list[int]:
    """Who hears about a task: its assignee; else the starter of a laneless task (the treating staff serving its
    organization when the starter is an integration client); else a small candidate group."""
    if task.assignee_id is not None:
        return [task.assignee_id]
    if task.role is None and is_client_name(task.started_by):   # an integration client's instance (issue 14.11)
        users = auth_queries.staff_serving(task.org_code, NON_TREATING_ROLES | {"patient", "integration"}) \
            if task.org_code else []
        users = [u for u in users if u.username != task.excluded_user]
        return [u.id for u in users] if len(users) <= MAX_GROUP else []
    if task.role is None:
        user = find_user(task.started_by) if task.started_by else None
        return [user.id] if user else []
    key = (task.role, task.org_code, task.excluded_user)
    if cache is None or key not in cache:
        ids = auth_queries.candidate_user_ids(task.role, task.org_code, excluding=task.excluded_user,
                                              limit=MAX_GROUP + 1) if task.org_code else []     # separation of duties
        ids = ids if len(ids) <= MAX_GROUP else []
        if cache is None:
            return ids
        cache[key] = ids
    return cache[key]


def _link(task: HumanTask) -> str:
    return f"/tasks/{task.id}"


def notify_new_task(task_guid: str) -> int:
    """Announce a new open task to whoever should pick it up (job; idempotent)."""
    with unit_of_work() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.task_guid == task_guid)).first()
        if task is None or task.status != "open":
            return 0
        return sum(notify(uid, kind="task_new", title=f"新任务：{task.name}", body=task_line(task), link=_link(task),
                          task_id=task.id, dedupe_key=f"task_new:{task.id}:{uid}") for uid in recipients(task))


def notify_new_tasks(task_guids: list[str]) -> int:
    """Announce the new tasks of one batch-start chunk (job; idempotent): what `notify_new_task` does for each, with
    one read of the tasks and the candidates looked up once per role and organisation."""
    added = 0
    cache: dict[Any, list[int]] = {}
    with unit_of_work() as s:
        tasks = s.scalars(select(HumanTask).where(HumanTask.task_guid.in_(task_guids), HumanTask.status == "open")
                          .order_by(HumanTask.id)).all()
        for task in tasks:
            added += sum(notify(uid, kind="task_new", title=f"新任务：{task.name}", body=task_line(task),
                                link=_link(task), task_id=task.id, dedupe_key=f"task_new:{task.id}:{uid}")
                         for uid in recipients(task, cache))
    return added


def notify_overdue(now=None) -> int:
    """Notify assignees (or small candidate groups) of tasks that fell overdue recently; once per task and user."""
    now = now or clock.now()
    added, last_id = 0, 0
    cache: dict[Any, list[int]] = {}
    while True:
        with unit_of_work() as s:
            batch = s.scalars(select(HumanTask).where(
                HumanTask.status == "open", HumanTask.due_at < now, HumanTask.due_at >= now - OVERDUE_WINDOW,
                HumanTask.id > last_id).order_by(HumanTask.id).limit(BATCH)).all()
            for task in batch:
                assert task.due_at is not None  # the query keeps only tasks due before now
                for uid in recipients(task, cache):
                    added += notify(uid, kind="task_overdue", title=f"任务已逾期：{task.name}", body=task_line(task),
                                    link=_link(task), task_id=task.id,
                                    dedupe_key=f"task_overdue:{task.id}:{uid}:{task.due_at.astimezone(UTC):%Y%m%d%H%M}")
        if len(batch) < BATCH:
            return added
        last_id = batch[-1].id


def task_line(task: HumanTask, *, with_due: bool = True) -> str:
    """"王建国，2型糖尿病，高危，截止 2026-12-04 08:00": who and what a task is about, in Chinese labels."""
    parts = [task.resident_name, Disease.label_of(task.disease) if task.disease else None,
             RiskLevel.label_of(task.risk_level) if task.risk_level else None]
    due = f"截止 {clock.local(task.due_at):%Y-%m-%d %H:%M}" if task.due_at and with_due else None
    return "，".join(p for p in [*parts, due] if p)


def announce_new_task(row: HumanTask) -> None:
    """Runs inside the step that projects the task: queue the announcement for after its commit."""
    state = inspect(row)
    if not (state.pending or state.transient):
        return
    s = object_session(row) or session()
    collected = hooks.in_batch_chunk(s)
    if collected is not None:               # a batch start: one announcement job for its chunk (announce_batch)
        collected.setdefault("task_new", []).append(row.task_guid)
        return
    enqueue_after_commit(s, "app.notifications.jobs.notify_new_task", row.task_guid,
                         job_id=f"task-new-{row.task_guid}", retries=2)


def announce_batch(s, collected: dict) -> None:
    """A batch chunk's finisher (`hooks.batch_chunk_finisher`): queue the announcement of its new tasks, one job."""
    guids = collected.get("task_new") or []
    if guids:
        enqueue_after_commit(s, "app.notifications.jobs.notify_new_tasks", guids,
                             job_id=f"task-new-batch-{guids[0]}-{len(guids)}", retries=2)
