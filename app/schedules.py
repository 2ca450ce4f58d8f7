"""The one table of recurring work, run by the scheduler (apscheduler).

Production: `ygt scheduler` is a separate process; several may run, one is leader (PostgreSQL advisory lock) and
the others wait. Embedded default: a background scheduler inside the web process. Each entry only enqueues jobs
or does set-based SQL; the work itself runs in workers.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text

from app.core import clock, logs
from app.core.db import engine, is_postgres, session, unit_of_work
from app.jobs.queue import resolve

log = logs.get("scheduler")
ADVISORY_LOCK_KEY = 0x59475453  # "YGTS"


@dataclass(frozen=True)
class Schedule:
    name: str
    func: str
    every_s: int


SCHEDULES = (
    Schedule("workflows.enqueue_due_timers", "app.workflows.jobs.enqueue_due_timers", 5),
    Schedule("workflows.sweep_outbox", "app.workflows.jobs.sweep_outbox", 30),
    Schedule("notifications.notify_overdue", "app.notifications.jobs.notify_overdue", 300),
    Schedule("follow_up.generate_due_cycles", "app.follow_up.jobs.generate_due_cycles", 3600),
    Schedule("follow_up.send_due_reminders", "app.follow_up.jobs.send_due_reminders", 3600),
    Schedule("follow_up.escalate_overdue", "app.follow_up.jobs.escalate_overdue", 3600),
    Schedule("screening.start_pending_cases", "app.screening.jobs.start_pending_cases", 60),
    Schedule("referral.start_requested", "app.referral.jobs.start_requested", 60),
    Schedule("integrations.resume_waiting", "app.integrations.store.resume_waiting", 30),
    Schedule("notify.deliver_due", "connectors.notify.services.deliver_due", 30),
    Schedule("notify.forward_notifications", "connectors.notify.services.forward_notifications", 30),
    Schedule("public_health.pull", "connectors.public_health.sync.pull_all", 900),
    Schedule("public_health.push_follow_ups", "connectors.public_health.sync.push_all", 900),
    Schedule("insurance.pull", "connectors.insurance.sync.pull", 3600),
    Schedule("pacs.pull", "connectors.pacs.sync.pull", 300),
)


def run_once() -> dict[str, int]:
    """Run every schedule once (tests and `ygt scheduler --once`)."""
    return {s.name: resolve(s.func)() for s in SCHEDULES}


class Leadership:
    """Hold leadership: a session-level advisory lock on PostgreSQL; a lease row on SQLite."""

    def __init__(self) -> None:
        self.conn = None
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"

    def acquire(self) -> bool:
        if is_postgres():
            if self.conn is None:
                self.conn = engine().connect()
            got = self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
            self.conn.commit()
            return bool(got)
        return self._sqlite_lease()

    def _sqlite_lease(self) -> bool:
        from app.workflows.models import SchedulerLease
        now = clock.now()
        with unit_of_work() as s:
            lease = s.get(SchedulerLease, "scheduler")
            if lease is None:
                s.add(SchedulerLease(name="scheduler", holder=self.holder, expires_at=now + timedelta(seconds=30)))
                return True
            if lease.holder == self.holder or lease.expires_at < now:
                lease.holder, lease.expires_at = self.holder, now + timedelta(seconds=30)
                return True
            return False

    def release(self) -> None:
        if self.conn is not None:
            self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
            self.conn.commit()
            self.conn.close()
            self.conn = None


def _tick(schedule: Schedule, leadership: Leadership) -> None:
    try:
        if not leadership.acquire():
            return
        count = resolve(schedule.func)()
        if count:
            log.info("schedule ran", extra={"job": schedule.name, "status": count})
    except Exception:
        log.exception("schedule failed", extra={"job": schedule.name})
    finally:
        session().close()


def build_scheduler(*, blocking: bool, wrap=lambda fn: fn):
    """An apscheduler with one interval job per schedule, each gated by leadership."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    sched = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
    leadership = Leadership()
    for s in SCHEDULES:
        sched.add_job(wrap(_tick), "interval", seconds=s.every_s, args=(s, leadership), id=s.name,
                      max_instances=1, coalesce=True)
    return sched, leadership


def start_embedded(app) -> None:
    """Start the in-process scheduler of the embedded default (once per process)."""
    if getattr(app, "_ygt_scheduler", None) is not None:
        return

    def wrap(fn):
        def in_context(*args, **kwargs):
            with app.app_context():
                return fn(*args, **kwargs)
        return in_context
    sched, _ = build_scheduler(blocking=False, wrap=wrap)
    sched.start()
    app._ygt_scheduler = sched


def wait_for_leadership(leadership: Leadership, poll_s: float = 5.0) -> None:
    while not leadership.acquire():
        time.sleep(poll_s)
