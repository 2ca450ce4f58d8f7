"""Gauges read at scrape time from the projections (cheap aggregate queries, no workflow loads)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.core import metrics
from app.core.db import session
from app.jobs import queue

from . import health
from .models import ProcessInstance


def refresh() -> None:
    s = session()
    try:
        metrics.INSTANCES.clear()
        for status, n in s.execute(select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status)):
            metrics.INSTANCES.labels(status).set(n)
        background = health.background_status()
        metrics.TIMER_LAG.set(background["timers"]["oldest_due_age_s"])
        metrics.TIMERS_DUE.set(background["timers"]["due"])
        metrics.OUTBOX_PENDING.set(background["outbox"]["pending"])
        metrics.JOB_OUTBOX_PENDING.set(background["job_outbox"]["pending"])
        metrics.JOB_OUTBOX_AGE.set(background["job_outbox"]["oldest_age_s"])
        scheduler = background["scheduler"]
        age = scheduler["heartbeat_age_s"]
        metrics.SCHEDULER_HEARTBEAT_AGE.set(age if age is not None else -1)
        metrics.SCHEDULER_LEADERS.set(1 if scheduler["leader"] else 0)
        metrics.SCHEDULERS_RUNNING.set(scheduler["running"])
    finally:
        s.rollback()
    if queue.mode() == "rq":
        q = health.queue_status()
        metrics.QUEUE_DEPTH.set(q["depth"])
        metrics.QUEUE_FAILED.set(q["failed"])
        metrics.WORKERS.set(q["workers"])

