"""The rq side of the job queue: the configured mode and Redis, a job's description, and pushing it to rq.

`app.jobs.queue` (enqueue) and `app.jobs.outbox` (the relay) both build on this module; neither imports the other
back.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job as RqJob

QUEUE_NAME = os.environ.get("YGT_QUEUE", "ygt")
_mode = "eager"
_redis_url: str | None = None


def configure(mode: str, redis_url: str | None) -> None:
    global _mode, _redis_url
    _mode, _redis_url = mode, redis_url


def set_mode(mode: str) -> None:
    global _mode
    _mode = mode


def mode() -> str:
    return _mode


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


_clients: dict[str, Redis] = {}


def redis_connection(*, blocking: bool = False):
    """A Redis client that fails fast when Redis is down (a request never hangs on it); `blocking=True` for the
    worker, whose dequeue waits on the socket for minutes.

    The fail-fast client is one per URL and process, so its connection pool is reused (issue 23.2: a new client
    per call opened a new TCP connection to Redis for every push and every outbox mark); redis-py's pool notices
    a fork and opens new connections in the child."""
    if _redis_url is None:
        raise RuntimeError("Redis is not configured (REDIS_URL)")
    if blocking:
        return Redis.from_url(_redis_url, socket_connect_timeout=5, health_check_interval=30)
    client = _clients.get(_redis_url)
    if client is None:
        client = _clients[_redis_url] = Redis.from_url(_redis_url, socket_connect_timeout=2, socket_timeout=10)
    return client


def rq_queue():
    return Queue(QUEUE_NAME, connection=redis_connection())


LIVE_STATUSES = ("created", "queued", "scheduled", "deferred", "started", "rate_limited", "ready_to_enqueue")


def push(job: Job) -> bool:
    """Push one job to rq; False when a job with the same id is still queued, scheduled or running (no duplicate).

    A finished or failed job of the same id is replaced (the work is asked for again). Raises on Redis errors."""
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
