"""Advance the platform clock (embedded default and tests only): a process owner tries a 90-day follow-up model
in minutes. Never in production: refused when Redis is configured (the production topology) or the database is
PostgreSQL (issue 14.12: only the embedded SQLite default moves its clock), and unless the site
opted in with `YGT_CLOCK_CONTROL=1` (`make run` does, for the demo county; a pilot site running `ygt serve` does
not). Moving the clock fires every timer that became due, at once; each move is audited."""
from __future__ import annotations

import os
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import func, select

from app.core import clock
from app.core.db import unit_of_work
from app.core.errors import Forbidden

from . import jobs
from .models import ProcessInstance, Timer

MAX_STEP = timedelta(days=400)


def enabled() -> bool:
    settings = current_app.config.get("YGT") if has_app_context() else None
    if settings is not None and "clock_control" in settings.extra:
        return bool(settings.extra["clock_control"])      # a test switched it (also on its PostgreSQL + Redis run)
    if settings is None or settings.production or not settings.is_sqlite:
        return False
    return os.environ.get("YGT_CLOCK_CONTROL") == "1"


def state() -> dict:
    """The platform time, whether it may be moved, and the timers still waiting (how many, the next one's time)."""
    with unit_of_work() as session:
        count, next_at = session.execute(
            select(func.count(Timer.id), func.min(Timer.fire_at))
            .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
            .where(ProcessInstance.status.notin_(("suspended", "error")))).one()
    return {"now": clock.now(), "enabled": enabled(), "pending_timers": count, "next_timer_at": next_at}


def step_until(until: datetime) -> timedelta:
    """The step that brings the clock to `until` (an instant; must lie ahead)."""
    return until - clock.now()


def advance(delta: timedelta) -> dict:
    """Move the clock forward by `delta` (at most 400 days a step) and fire the timers now due."""
    if not enabled():
        raise Forbidden("平台时钟不可调整（仅限演示与测试环境）(clock control is off: demo and test installs only)",
                        code="clock_control_disabled")
    if delta <= timedelta(0) or delta > MAX_STEP:
        raise Forbidden("每次可前移 1 秒至 400 天 (advance by 1 second to 400 days)", code="invalid_clock_step",
                        status=422)
    clock.advance(delta)
    fired = jobs.enqueue_due_timers()
    return {**state(), "advanced_by_seconds": int(delta.total_seconds()), "instances_with_due_timers": fired}
