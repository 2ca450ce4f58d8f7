"""Gauges read at scrape time from the projections (cheap aggregate queries, no workflow loads)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.core import clock, metrics
from app.core.db import session
from app.jobs import queue

from .models import ProcessInstance, ServiceCall, Timer


def refresh() -> None:
    s = session()
    try:
        metrics.INSTANCES.clear()
        for status, n in s.execute(select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status)):
            metrics.INSTANCES.labels(status).set(n)
        oldest = s.execute(select(func.min(Timer.fire_at))).scalar_one_or_none()
        lag = (clock.now() - oldest).total_seconds() if oldest else 0.0
        metrics.TIMER_LAG.set(max(0.0, lag))
        metrics.OUTBOX_PENDING.set(s.execute(select(func.count()).select_from(ServiceCall).where(
            ServiceCall.status.in_(("pending", "running")))).scalar_one())
        if queue.mode() == "rq":
            metrics.QUEUE_DEPTH.set(queue.rq_queue().count)
    finally:
        s.rollback()


metrics.on_scrape(refresh)
