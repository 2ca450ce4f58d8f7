"""One `enqueue()` API for background work.

* `rq`     — production: jobs go to Redis; `ygt worker` processes them (retries with backoff via rq's Retry).
* `thread` — embedded default: one in-process worker thread with the same retry/backoff rules.
* `eager`  — tests: run at once in the caller's thread.

Jobs are named by dotted path (`"app.workflows.jobs.run_service_call"`), take ids, and are idempotent. Enqueue
them *after commit* with `enqueue_after_commit(session, ...)` so a job never sees uncommitted rows. In rq mode that
writes a row of the job outbox (`app.jobs.models.JobOutbox`) in the caller's transaction; `app.jobs.outbox.relay`
pushes it to rq (at once after the commit, and again by the leading scheduler until Redis takes it). A job id
names one piece of work: while a job with that id is queued, scheduled or running, enqueueing it again is a no-op.
"""
from __future__ import annotations

import os
import queue as _queue
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module
from typing import Any

from flask import has_app_context

from app.core import logs, metrics
from app.jobs.ids import job_id as safe_job_id

log = logs.get("jobs")
QUEUE_NAME = os.environ.get("YGT_QUEUE", "ygt")
_mode = "eager"
_redis_url: str | None = None
_thread_queue: _queue.Queue | None = None
_thread_worker: threading.Thread | None = None
_app = None


@dataclass
class Job:
    func: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None
    retries: int = 3
    backoff: tuple[int, ...] = (2, 10, 60)
    delay_s: float = 0.0
    attempt: int = 0
    timeout_s: int = 600            # rq kills the job process after this long


def configure(settings, app=None) -> None:
    global _mode, _redis_url, _app
    _mode = settings.jobs_mode
    _redis_url = settings.redis_url
    _app = app


def mode() -> str:
    return _mode


def resolve(func: str):
    module, _, name = func.rpartition(".")
    return getattr(import_module(module), name)


def redis_connection(*, blocking: bool = False):
    """A Redis client that fails fast when Redis is down (a request never hangs on it); `blocking=True` for the
    worker, whose dequeue waits on the socket for minutes."""
    from redis import Redis
    if blocking:
        return Redis.from_url(_redis_url, socket_connect_timeout=5, health_check_interval=30)
    return Redis.from_url(_redis_url, socket_connect_timeout=2, socket_timeout=10)


def rq_queue():
    from rq import Queue
    return Queue(QUEUE_NAME, connection=redis_connection())


def enqueue(func: str, *args, job_id: str | None = None, retries: int = 3, backoff=(2, 10, 60),
            delay_s: float = 0.0, timeout_s: int = 600, **kwargs) -> None:
    """Run `func(*args, **kwargs)` in the background (see module doc for the modes). `job_id` may be any string:
    it is made queue-safe with `app.jobs.ids.job_id`."""
    job = Job(func, args, kwargs, safe_job_id(job_id) if job_id else None, retries, tuple(backoff), delay_s,
              timeout_s=timeout_s)
    if _mode == "rq":
        _enqueue_rq(job)
    elif _mode == "thread":
        _enqueue_thread(job)
    else:
        _run_with_retries(job, sleep=False)


def enqueue_after_commit(session, func: str, *args, job_id: str | None = None, retries: int = 3,
                         backoff=(2, 10, 60), delay_s: float = 0.0, **kwargs) -> None:
    """Queue a job that is dispatched only if (and when) the session's transaction commits.

    rq mode: the job is a `job_outbox` row written in this transaction (so Redis being down never fails the
    write) and relayed right after the commit; the scheduler's relay retries what Redis did not take."""
    if _mode == "rq":
        from app.jobs import outbox
        row = outbox.add(session, func, args, kwargs, job_id=job_id, retries=retries, backoff=backoff,
                         delay_s=delay_s)
        session.info.setdefault("after_commit", []).append(lambda: outbox.relay_after_commit(row))
        return
    session.info.setdefault("after_commit", []).append(
        lambda: enqueue(func, *args, job_id=job_id, retries=retries, backoff=backoff, delay_s=delay_s, **kwargs))


LIVE_STATUSES = ("created", "queued", "scheduled", "deferred", "started", "rate_limited", "ready_to_enqueue")


def _enqueue_rq(job: Job) -> bool:
    """Push one job to rq; False when a job with the same id is still queued, scheduled or running (no duplicate).

    A finished or failed job of the same id is replaced (the work is asked for again). Raises on Redis errors."""
    from rq import Retry
    from rq.exceptions import DuplicateJobError, NoSuchJobError
    from rq.job import Job as RqJob
    q = rq_queue()
    options = {"job_id": job.job_id, "job_timeout": job.timeout_s, "result_ttl": 3600, "failure_ttl": 7 * 86400,
               "retry": Retry(max=job.retries, interval=list(job.backoff)) if job.retries else None}
    if job.job_id:
        try:
            old = RqJob.fetch(job.job_id, connection=q.connection)
            status = old.get_status(refresh=False)
            if status is not None and str(getattr(status, "value", status)) in LIVE_STATUSES:
                return False
            old.delete()
        except NoSuchJobError:
            pass
        options["unique"] = True              # atomic: a relay racing this one cannot add a second job
    try:
        if job.delay_s > 0:
            q.enqueue_in(timedelta(seconds=job.delay_s), job.func, args=job.args, kwargs=job.kwargs, **options)
        else:
            q.enqueue(job.func, args=job.args, kwargs=job.kwargs, **options)
    except DuplicateJobError:
        return False
    return True


def _run_with_retries(job: Job, *, sleep: bool) -> None:
    fn = resolve(job.func)
    while True:
        try:
            if _app is not None and not has_app_context():
                with _app.app_context():
                    fn(*job.args, **job.kwargs)
            else:
                fn(*job.args, **job.kwargs)
            return
        except Exception:
            metrics.JOB_FAILURES.labels(job.func).inc()
            log.exception("job failed", extra={"job": job.func})
            if job.attempt >= job.retries:
                return
            job.attempt += 1
            if sleep:
                time.sleep(job.backoff[min(job.attempt - 1, len(job.backoff) - 1)])


def _enqueue_thread(job: Job) -> None:
    global _thread_queue, _thread_worker
    if _thread_queue is None:
        _thread_queue = _queue.Queue()
        _thread_worker = threading.Thread(target=_thread_loop, name="ygt-jobs", daemon=True)
        _thread_worker.start()
    if job.delay_s > 0:
        threading.Timer(job.delay_s, _thread_queue.put, args=(job,)).start()
    else:
        _thread_queue.put(job)


def _thread_loop() -> None:
    from app.core import db
    while True:
        job = _thread_queue.get()
        try:
            _run_with_retries(job, sleep=True)
        finally:
            db.remove_session()
            _thread_queue.task_done()


@contextmanager
def inline():
    """Run jobs in the caller's thread for a while (seeding, maintenance commands), then restore the mode."""
    global _mode
    saved = _mode
    _mode = "eager"
    try:
        yield
    finally:
        _mode = saved


def drain(timeout: float = 30.0) -> None:
    """Wait until the in-process queue is empty (thread mode; used by demos and tests)."""
    if _thread_queue is not None:
        deadline = time.monotonic() + timeout
        while _thread_queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
