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

import queue as _queue
import threading
import time
from contextlib import contextmanager
from importlib import import_module

from flask import has_app_context

from app.core import db, logs, metrics
from app.jobs import backend, outbox
from app.jobs.backend import Job, mode, push, redis_connection, rq_queue
from app.jobs.ids import job_id as safe_job_id

__all__ = ["configure", "drain", "enqueue", "enqueue_after_commit", "inline", "mode", "redis_connection", "resolve",
           "rq_queue"]
log = logs.get("jobs")
_thread_queue: _queue.Queue | None = None
_thread_worker: threading.Thread | None = None
_app = None


def configure(settings, app=None) -> None:
    global _app
    backend.configure(settings.jobs_mode, settings.redis_url)
    _app = app


def resolve(func: str):
    module, _, name = func.rpartition(".")
    return getattr(import_module(module), name)


def enqueue(func: str, *args, job_id: str | None = None, retries: int = 3, backoff=(2, 10, 60),
            delay_s: float = 0.0, timeout_s: int = 600, **kwargs) -> None:
    """Run `func(*args, **kwargs)` in the background (see module doc for the modes). `job_id` may be any string:
    it is made queue-safe with `app.jobs.ids.job_id`."""
    job = Job(func, args, kwargs, safe_job_id(job_id) if job_id else None, retries, tuple(backoff), delay_s,
              timeout_s=timeout_s)
    if mode() == "rq":
        push(job)
    elif mode() == "thread":
        _enqueue_thread(job)
    else:
        _run_with_retries(job, sleep=False)


def enqueue_after_commit(session, func: str, *args, job_id: str | None = None, retries: int = 3,
                         backoff=(2, 10, 60), delay_s: float = 0.0, **kwargs) -> None:
    """Queue a job that is dispatched only if (and when) the session's transaction commits.

    rq mode: the job is a `job_outbox` row written in this transaction (so Redis being down never fails the
    write) and relayed right after the commit; the scheduler's relay retries what Redis did not take."""
    if mode() == "rq":
        row = outbox.add(session, func, args, kwargs, job_id=job_id, retries=retries, backoff=backoff,
                         delay_s=delay_s)
        session.info.setdefault("after_commit", []).append(lambda: outbox.relay_after_commit(row))
        return
    session.info.setdefault("after_commit", []).append(
        lambda: enqueue(func, *args, job_id=job_id, retries=retries, backoff=backoff, delay_s=delay_s, **kwargs))


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
    jobs = _thread_queue
    assert jobs is not None  # the thread is started right after the queue is created
    while True:
        job = jobs.get()
        try:
            _run_with_retries(job, sleep=True)
        finally:
            db.remove_session()
            jobs.task_done()


@contextmanager
def inline():
    """Run jobs in the caller's thread for a while (seeding, maintenance commands), then restore the mode."""
    saved = mode()
    backend.set_mode("eager")
    try:
        yield
    finally:
        backend.set_mode(saved)


def drain(timeout: float = 30.0) -> None:
    """Wait until the in-process queue is empty (thread mode; used by demos and tests)."""
    if _thread_queue is not None:
        deadline = time.monotonic() + timeout
        while _thread_queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
