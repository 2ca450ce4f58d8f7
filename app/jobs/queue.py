"""One `enqueue()` API for background work.

* `rq`     — production: jobs go to Redis; `ygt worker` processes them (retries with backoff via rq's Retry).
* `thread` — embedded default: one in-process worker thread with the same retry/backoff rules.
* `eager`  — tests: run at once in the caller's thread.

Jobs are named by dotted path (`"app.workflows.jobs.run_service_call"`), take ids, and are idempotent. Enqueue
them *after commit* with `enqueue_after_commit(session, ...)` so a job never sees uncommitted rows.
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


def redis_connection():
    from redis import Redis
    return Redis.from_url(_redis_url)


def rq_queue():
    from rq import Queue
    return Queue(QUEUE_NAME, connection=redis_connection())


def enqueue(func: str, *args, job_id: str | None = None, retries: int = 3, backoff=(2, 10, 60),
            delay_s: float = 0.0, **kwargs) -> None:
    """Run `func(*args, **kwargs)` in the background (see module doc for the modes). `job_id` may be any string:
    it is made queue-safe with `app.jobs.ids.job_id`."""
    job = Job(func, args, kwargs, safe_job_id(job_id) if job_id else None, retries, tuple(backoff), delay_s)
    if _mode == "rq":
        _enqueue_rq(job)
    elif _mode == "thread":
        _enqueue_thread(job)
    else:
        _run_with_retries(job, sleep=False)


def enqueue_after_commit(session, func: str, *args, **kwargs) -> None:
    """Queue a job that is dispatched only if (and when) the session's transaction commits."""
    session.info.setdefault("after_commit", []).append(lambda: enqueue(func, *args, **kwargs))


def _enqueue_rq(job: Job) -> None:
    from rq import Retry
    q = rq_queue()
    options = dict(job_id=job.job_id, retry=Retry(max=job.retries, interval=list(job.backoff)) if job.retries else None,
                   job_timeout=600, result_ttl=3600, failure_ttl=7 * 86400)
    if job.delay_s > 0:
        q.enqueue_in(timedelta(seconds=job.delay_s), job.func, args=job.args, kwargs=job.kwargs, **options)
    else:
        q.enqueue(job.func, args=job.args, kwargs=job.kwargs, **options)


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
