"""Is background work being done? Scheduler heartbeats, due timers, the outbox and the job queue, read cheaply
(a few aggregate queries) for `/healthz`, `/readyz` and the Prometheus gauges.

A monitor alerts on `/readyz` (503) or on the gauges: no scheduler has beaten as leader within
`YGT_SCHEDULER_STALE_S` (default 30 s), a due timer has waited longer than `YGT_TIMER_LAG_ALERT_S` (default 120 s),
or (rq mode) no worker listens on the queue.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

from rq import Worker
from sqlalchemy import delete, func, select

from app.core import clock
from app.core.db import session, unit_of_work
from app.jobs import outbox as job_outbox
from app.jobs import queue

from .models import SchedulerHeartbeat, ServiceCall, Timer

STALE_S = float(os.environ.get("YGT_SCHEDULER_STALE_S", "30"))
TIMER_LAG_ALERT_S = float(os.environ.get("YGT_TIMER_LAG_ALERT_S", "120"))
KEEP_GONE = timedelta(hours=1)          # rows of schedulers that stopped beating are dropped after this


def record_heartbeat(holder: str, *, is_leader: bool, leader_since: datetime | None,
                     last_error: str | None) -> None:
    """Upsert this scheduler's row; the leader also drops rows of schedulers gone for an hour."""
    now = clock.now()
    with unit_of_work() as s:
        row = s.get(SchedulerHeartbeat, holder)
        if row is None:
            row = SchedulerHeartbeat(holder=holder, started_at=now)
            s.add(row)
        row.is_leader, row.beat_at, row.leader_since, row.last_error = is_leader, now, leader_since, last_error
        if is_leader:
            s.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.beat_at < now - KEEP_GONE))


def scheduler_status(now: datetime) -> dict:
    rows = session().execute(select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.beat_at.desc())).scalars().all()
    fresh = [r for r in rows if (now - r.beat_at).total_seconds() <= STALE_S]
    leaders = [r for r in fresh if r.is_leader]
    last_leader_beat = max((r.beat_at for r in rows if r.is_leader), default=None)
    state = "ok" if leaders else ("no_leader" if fresh else ("stale" if rows else "missing"))
    return {
        "state": state,
        "leader": leaders[0].holder if leaders else None,
        "leader_since": leaders[0].leader_since.isoformat() if leaders and leaders[0].leader_since else None,
        "heartbeat_age_s": round((now - last_leader_beat).total_seconds(), 1) if last_leader_beat else None,
        "running": len(fresh),
        "last_error": next((r.last_error for r in fresh if r.last_error), None),
    }


def timer_status(now: datetime) -> dict:
    due, oldest = session().execute(select(func.count(), func.min(Timer.fire_at)).where(Timer.fire_at <= now)).one()
    lag = (now - oldest).total_seconds() if oldest else 0.0
    return {"due": due, "oldest_due_age_s": round(max(0.0, lag), 1),
            "state": "ok" if lag <= TIMER_LAG_ALERT_S else "lagging"}


def outbox_status(now: datetime) -> dict:
    pending, oldest = session().execute(select(func.count(), func.min(ServiceCall.created_at)).where(
        ServiceCall.status.in_(("pending", "running")))).one()
    return {"pending": pending, "oldest_age_s": round((now - oldest).total_seconds(), 1) if oldest else 0.0}


def queue_status() -> dict:
    if queue.mode() != "rq":
        return {"mode": queue.mode(), "state": "ok"}
    q = queue.rq_queue()
    workers = Worker.count(queue=q)
    return {"mode": "rq", "name": q.name, "depth": q.count, "failed": q.failed_job_registry.count,
            "workers": workers, "state": "ok" if workers else "no_workers"}


def background_status() -> dict:
    """Everything a monitor needs to see whether timers fire and jobs run."""
    now = clock.now()
    s = session()
    try:
        status = {"scheduler": scheduler_status(now), "timers": timer_status(now), "outbox": outbox_status(now),
                  "job_outbox": job_outbox.status()}
    finally:
        s.rollback()
    return status
