"""The one table of recurring work, run by the scheduler (apscheduler).

Production: `ygt scheduler` is a separate process; several may run, one is leader (PostgreSQL advisory lock) and
the others stand by, each checking every heartbeat (`YGT_SCHEDULER_HEARTBEAT_S`, default 5 s) so a lost leader
is replaced within seconds. A dropped database connection is survived: see `Leadership`. Every scheduler records
a heartbeat row (`app.workflows.health`) that `/healthz`, `/readyz` and `/metrics` report. Embedded default: a
background scheduler inside the web process. Each entry only enqueues jobs or does set-based SQL; the work itself
runs in workers.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import text

from app.core import clock, logs
from app.core.db import engine, is_postgres, remove_session, session, unit_of_work
from app.jobs.queue import mode as queue_mode
from app.jobs.queue import resolve
from app.workflows.health import record_heartbeat
from app.workflows.models import SchedulerLease

log = logs.get("scheduler")
ADVISORY_LOCK_KEY = 0x59475453  # "YGTS"


@dataclass(frozen=True)
class Schedule:
    name: str
    func: str
    every_s: int
    rq_only: bool = False       # only where jobs go through Redis (the embedded default has nothing to relay)


SCHEDULES = (
    Schedule("jobs.relay_outbox", "app.jobs.outbox.relay", 1, rq_only=True),
    Schedule("workflows.enqueue_due_timers", "app.workflows.jobs.enqueue_due_timers", 5),
    Schedule("workflows.sweep_outbox", "app.workflows.jobs.sweep_outbox", 30),
    Schedule("notifications.notify_overdue", "app.notifications.jobs.notify_overdue", 300),
    Schedule("follow_up.generate_due_cycles", "app.follow_up.jobs.generate_due_cycles", 3600),
    Schedule("follow_up.send_due_reminders", "app.follow_up.jobs.send_due_reminders", 3600),
    Schedule("follow_up.escalate_overdue", "app.follow_up.jobs.escalate_overdue", 3600),
    Schedule("screening.start_pending_cases", "app.screening.jobs.start_pending_cases", 60),
    Schedule("screening.sweep_chunks", "app.screening.jobs.sweep_chunks", 30),
    Schedule("referral.start_requested", "app.referral.jobs.start_requested", 60),
    Schedule("quality.check_thresholds", "app.quality.jobs.check_thresholds", 6 * 3600),
    Schedule("quality.refresh_current", "app.quality.jobs.refresh_current", 600),
    Schedule("quality.refresh_closed", "app.quality.jobs.refresh_closed", 3600),
    Schedule("live.close_expired_rooms", "app.live.jobs.close_expired_rooms", 60),
    Schedule("integrations.resume_waiting", "app.integrations.store.resume_waiting", 30),
    Schedule("integrations.purge_bodies", "app.integrations.retention.purge_bodies", 3600),
    Schedule("notify.deliver_due", "connectors.notify.services.deliver_due", 30),
    Schedule("notify.forward_notifications", "connectors.notify.services.forward_notifications", 30),
    Schedule("public_health.pull", "connectors.public_health.sync.pull_all", 900),
    Schedule("public_health.push_follow_ups", "connectors.public_health.sync.push_all", 900),
    Schedule("public_health.referrals", "connectors.public_health.referrals.exchange_all", 300),
    Schedule("insurance.pull", "connectors.insurance.sync.pull", 3600),
    Schedule("pacs.pull", "connectors.pacs.sync.pull", 300),
    Schedule("his.prescription_results", "connectors.his.prescriptions.push", 60),
    Schedule("spd.push", "connectors.spd.outbound.push", 120),
    Schedule("supply.stock_alerts", "app.supply.policy.sweep", 6 * 3600),
    Schedule("report_builder.deliver_scheduled", "app.report_builder.jobs.deliver_scheduled", 3600),
    Schedule("appraisal.recompute_current", "app.appraisal.jobs.recompute_current", 6 * 3600),
    Schedule("intervention.monthly_reports", "app.intervention.jobs.deliver_monthly_reports", 3600),
)


def run_once() -> dict[str, int]:
    """Run every schedule once (tests and `ygt scheduler --once`)."""
    return {s.name: resolve(s.func)() for s in SCHEDULES}


HEARTBEAT_S = float(os.environ.get("YGT_SCHEDULER_HEARTBEAT_S", "5"))
BACKOFF_MAX_S = 15.0


class Leadership:
    """Who leads, kept true across database faults.

    PostgreSQL: a session-level advisory lock held on a dedicated connection; SQLite: a lease row renewed by every
    beat (expires after three beats). `check()` runs before every tick and on every heartbeat: the leader proves
    its lock connection is alive (`SELECT 1`); a standby tries to take the lock. When the database drops the
    connection (restart, `pg_terminate_backend`, network), the connection is thrown away, leadership is given up
    at once, and a new connection is tried with exponential backoff (0.5 s … 15 s) until the lock is held again
    — by this process or, if it was faster, by another scheduler, which then leads within one heartbeat.
    """

    def __init__(self, *, lease_s: float | None = None) -> None:
        self.conn = None
        self.is_leader = False
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.lease = timedelta(seconds=lease_s if lease_s is not None else 3 * HEARTBEAT_S)
        self.last_error: str | None = None
        self.leader_since = None
        self._mutex = threading.Lock()
        self._failures = 0
        self._retry_at = 0.0

    def check(self) -> bool:
        """Whether this process leads now (reconnecting and re-acquiring as needed)."""
        with self._mutex:
            if time.monotonic() < self._retry_at:
                return False
            was_leader = self.is_leader
            try:
                self.is_leader = self._pg_check() if is_postgres() else self._sqlite_lease()
                self._failures, self.last_error = 0, None
            except Exception as exc:  # noqa: BLE001 (the database went away: drop the connection, retry with backoff)
                self._drop()
                self._failures += 1
                delay = min(BACKOFF_MAX_S, 0.5 * 2 ** (self._failures - 1))
                self._retry_at = time.monotonic() + delay
                self.last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                log.warning("scheduler lost the database; retrying", extra={"code": self.last_error,
                                                                             "status": round(delay, 1)})
                self.is_leader = False
            if self.is_leader != was_leader:
                self.leader_since = clock.now() if self.is_leader else None
                log.info("scheduler is leader" if self.is_leader else "scheduler lost leadership",
                         extra={"job": self.holder})
            return self.is_leader

    # backwards-compatible name (tests and tools call acquire())
    acquire = check

    def _pg_check(self) -> bool:
        if self.conn is None:
            self.conn = engine().connect()          # the pool pre-pings, so this is a live connection
        if self.is_leader:
            self.conn.execute(text("SELECT 1"))     # the lock lives as long as this connection does
            self.conn.rollback()
            return True
        got = self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
        self.conn.commit()
        return bool(got)

    def _sqlite_lease(self) -> bool:
        now = clock.now()
        with unit_of_work() as s:
            lease = s.get(SchedulerLease, "scheduler")
            if lease is None:
                s.add(SchedulerLease(name="scheduler", holder=self.holder, expires_at=now + self.lease))
                return True
            if lease.holder == self.holder or lease.expires_at < now:
                lease.holder, lease.expires_at = self.holder, now + self.lease
                return True
            return False

    def _drop(self) -> None:
        """Forget the lock connection without returning it to the pool (it may hold, or have lost, the lock)."""
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # noqa: BLE001 (already broken: nothing left to close)
                log.debug("closing a broken scheduler connection failed")
        session().close()

    def release(self) -> None:
        with self._mutex:
            if self.conn is not None and self.is_leader:
                try:
                    self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                    self.conn.commit()
                except Exception:  # noqa: BLE001 (the connection is gone, and the lock with it)
                    log.debug("advisory unlock failed")
            self._drop()
            self.is_leader = False


def beat(leadership: Leadership) -> None:
    """Check leadership and record this scheduler's heartbeat (health and metrics read it)."""
    leadership.check()
    try:
        record_heartbeat(leadership.holder, is_leader=leadership.is_leader, leader_since=leadership.leader_since,
                         last_error=leadership.last_error)
    except Exception:  # noqa: BLE001 (the database is down: the next beat tries again (check() already backs off))
        log.warning("scheduler heartbeat not recorded", extra={"job": leadership.holder})
    finally:
        remove_session()


def _tick(schedule: Schedule, leadership: Leadership) -> None:
    try:
        if not leadership.check():
            return
        count = resolve(schedule.func)()
        if count:
            log.info("schedule ran", extra={"job": schedule.name, "status": count})
    except Exception:
        log.exception("schedule failed", extra={"job": schedule.name})
    finally:
        remove_session()


def build_scheduler(*, blocking: bool, wrap=lambda fn: fn):
    """An apscheduler with one interval job per schedule, each gated by leadership, plus the heartbeat."""
    sched = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
    leadership = Leadership()
    sched.add_job(wrap(beat), "interval", seconds=HEARTBEAT_S, args=(leadership,), id="scheduler.heartbeat",
                  max_instances=1, coalesce=True, next_run_time=clock.now())
    for s in SCHEDULES:
        if s.rq_only and queue_mode() != "rq":
            continue
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
