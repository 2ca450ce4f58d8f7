"""The transactional job outbox (rq mode): write a job in the caller's transaction, relay it to rq after commit.

* `add()` — called by `queue.enqueue_after_commit` inside the transaction; nothing touches Redis there.
* `relay_after_commit()` — right after that commit, one best-effort push of the row's job straight to Redis, with
  no database work (issue 23.2: it used to be a second transaction per request). A pushed row is marked *in Redis*
  (`sent_key`, set by the same server-side script that queues the job: one round trip, and no mark without the
  job); its database row stays `pending` until the relay sweeps it. A Redis error is logged and left to the relay; the request still succeeds.
* `relay()` — the leading scheduler's schedule `jobs.relay_outbox` (every second): takes the pending rows older than
  `SETTLE_S` (so a row whose request is pushing it right now is left to that request), oldest first, in batches
  locked with FOR UPDATE SKIP LOCKED so two relays never push one row. A row whose Redis mark is there was pushed
  after its commit and only becomes `relayed`; the others are pushed now and become `relayed` (or `duplicate` when a
  job with its id was still queued or running) in the same transaction. On a Redis error the batch stops, the row
  keeps `pending` and counts the attempt. Relayed rows are deleted after `KEEP_RELAYED`.

Nothing is lost when Redis is down: the row is committed with the work that asked for the job, and it stays
`pending` until a push succeeded. A job may run twice in one rare case (a request stalls between its commit and its
push for longer than `SETTLE_S` while the relay pushes the same row and the job already finished): jobs are
idempotent (app.jobs.queue).

One rq job per row: the row's job id is the rq job id, and rq refuses a second live job with the same id
(`backend.push`), so a relay that pushed a row but died before its commit cannot add the job twice.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from redis.exceptions import RedisError
from sqlalchemy import Table, delete, func, insert, select

from app.core import clock, logs
from app.core.db import is_postgres, session, unit_of_work
from app.core.hot import HotStatement
from app.jobs import backend
from app.jobs.ids import job_id as safe_job_id
from app.jobs.models import JobOutbox

log = logs.get("jobs.outbox")
BATCH = 200
KEEP_RELAYED = timedelta(hours=float(os.environ.get("YGT_JOB_OUTBOX_KEEP_H", "24")))
STUCK_ALERT_S = float(os.environ.get("YGT_JOB_OUTBOX_ALERT_S", "60"))
SETTLE_S = float(os.environ.get("YGT_JOB_OUTBOX_SETTLE_S", "2"))   # the request's own push comes first


@dataclass(slots=True)
class Added:
    """An outbox row just written in the caller's transaction: the values its push after the commit needs."""
    id: int
    func: str
    args: list[Any]
    kwargs: dict[str, Any]
    job_id: str
    retries: int
    backoff: list[int]
    delay_s: float
    created_at: datetime


def add(s, func_name: str, args, kwargs, *, job_id: str | None, retries: int, backoff, delay_s: float) -> Added:
    """Add one job to the outbox in the session's transaction (it exists only if that transaction commits): one
    `INSERT … RETURNING id`, on the DBAPI connection on PostgreSQL (`app.core.hot`; issue 23: ≈ 90 → 50 µs of
    CPU per row in isolation), no unit-of-work flush at commit, no ORM object. On PostgreSQL the INSERT is deferred
    to the transaction's next round trip (`HotStatement.scalar_later`: the next statement or the COMMIT, issue 23):
    `id` is set once it is written, read only after the commit (`relay_after_commit`)."""
    now = clock.now()
    row = Added(0, func_name, list(args), dict(kwargs), safe_job_id(job_id) if job_id else "", retries,
                list(backoff), float(delay_s), now)
    _INSERT.scalar_later(s, {"func": row.func, "args": row.args, "kwargs": row.kwargs, "job_id": row.job_id,
                             "retries": retries, "backoff": row.backoff, "delay_s": row.delay_s,
                             "status": "pending", "attempts": 0, "created_at": now, "available_at": now},
                         partial(setattr, row, "id"))
    return row


_TABLE = cast(Table, JobOutbox.__table__)
_INSERT = HotStatement(insert(_TABLE).returning(_TABLE.c.id))


def _job_id(row: JobOutbox | Added) -> str:
    return row.job_id or f"outbox-{row.id}"


def _job(row: JobOutbox | Added) -> backend.Job:
    remaining = max(0.0, row.delay_s - (clock.now() - row.created_at).total_seconds())
    return backend.Job(row.func, tuple(row.args or ()), dict(row.kwargs or {}), _job_id(row), row.retries,
                       tuple(row.backoff or (2, 10, 60)), remaining)


def sent_key(row_id: int, created_at) -> str:
    """The Redis mark of a row pushed right after its commit (id and creation time: unique across databases that
    share one Redis)."""
    return f"ygt:outbox:sent:{row_id}:{created_at.timestamp():.6f}"


def _push(row: JobOutbox) -> None:
    """Push one locked row to rq and mark it (raises on Redis errors: the caller keeps the row pending)."""
    added = backend.push(_job(row))
    _mark(row, "relayed" if added else "duplicate")


def _mark(row: JobOutbox, status: str) -> None:
    row.status, row.relayed_at, row.last_error = status, clock.now(), None


def _locked(stmt):
    return stmt.with_for_update(skip_locked=True) if is_postgres() else stmt


_PAUSE_AFTER_FAILURE_S = 5.0
_paused_until = 0.0


def relay_after_commit(row: Added) -> None:
    """Right after the commit that wrote `row`: try once to push its job to Redis (never raises; the relay retries).
    No database work: the push is marked in Redis and the relay's next sweep marks the row.

    After a failure the requests of the next few seconds do not try at all (an unreachable Redis would cost each
    of them the connect timeout); the scheduler's relay pushes their rows."""
    global _paused_until
    # a row whose key was never handed over (0: its deferred INSERT not written) is the relay's, never pushed as row 0
    if not row.id or time.monotonic() < _paused_until:
        return
    job = _job(row)
    job.mark = (sent_key(row.id, row.created_at), int(KEEP_RELAYED.total_seconds()) + 3600)
    try:
        backend.push(job)               # the job and its mark in one round trip
    except (RedisError, OSError) as exc:  # Redis is down: the row stays pending for the relay
        _paused_until = time.monotonic() + _PAUSE_AFTER_FAILURE_S
        log.warning("job not relayed yet; the relay retries", extra={"job": row.func, "code": _error(exc)})


def relay(limit: int = 2000) -> int:
    """Push pending outbox rows to rq; the number pushed now (a schedule of the leading scheduler). Rows whose
    request pushed them already (marked in Redis) are only marked `relayed`."""
    if backend.mode() != "rq":
        return 0
    pushed, seen, last_id = 0, 0, 0
    settled = clock.now() - timedelta(seconds=SETTLE_S)
    while seen < limit:
        with unit_of_work() as s:
            rows = s.scalars(_locked(select(JobOutbox).where(JobOutbox.status == "pending", JobOutbox.id > last_id,
                                                             JobOutbox.created_at <= settled)
                                     .order_by(JobOutbox.id).limit(BATCH))).all()
            if not rows:
                break
            try:
                sent = backend.redis_connection().mget([sent_key(r.id, r.created_at) for r in rows])
            except (RedisError, OSError) as exc:   # Redis is down: keep the rows pending, try again next tick
                rows[0].attempts, rows[0].last_error = rows[0].attempts + 1, _error(exc)
                log.warning("job outbox relay stopped; Redis does not answer",
                            extra={"job": rows[0].func, "code": rows[0].last_error})
                return pushed
            for row, mark in zip(rows, sent, strict=True):
                seen += 1
                last_id = row.id
                if mark is not None:
                    _mark(row, "relayed")
                    continue
                try:
                    _push(row)
                except (RedisError, OSError) as exc:  # Redis is down: keep this and later rows pending, try again next tick
                    row.attempts, row.last_error = row.attempts + 1, _error(exc)
                    log.warning("job outbox relay stopped; Redis does not answer",
                                extra={"job": row.func, "code": row.last_error})
                    return pushed
                pushed += 1
    _prune()
    return pushed


def _prune() -> None:
    with unit_of_work() as s:
        s.execute(delete(JobOutbox).where(JobOutbox.status.in_(("relayed", "duplicate")),
                                          JobOutbox.relayed_at < clock.now() - KEEP_RELAYED))


def _error(exc: Exception) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"


def status() -> dict:
    """Pending rows and the age of the oldest (health, readiness and metrics report it)."""
    now = clock.now()
    pending, oldest, errors = session().execute(select(
        func.count(), func.min(JobOutbox.created_at), func.max(JobOutbox.attempts)).where(
        JobOutbox.status == "pending")).one()
    age = (now - oldest).total_seconds() if oldest else 0.0
    return {"pending": pending, "oldest_age_s": round(max(0.0, age), 1), "relay_attempts_max": errors or 0,
            "state": "ok" if age <= STUCK_ALERT_S else "stuck"}
