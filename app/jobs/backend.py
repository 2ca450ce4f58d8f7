"""The rq side of the job queue: the configured mode and Redis, a job's description, and pushing it to rq.

`app.jobs.queue` (enqueue) and `app.jobs.outbox` (the relay) both build on this module; neither imports the other
back.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job as RqJob
from rq.job import JobStatus

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
    # a Redis key set (with its lifetime in seconds) in the push's own round trip when the job is queued or was
    # still live: the outbox's mark of a row its request pushed (app.jobs.outbox)
    mark: tuple[str, int] | None = None


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


# One round trip for a push (issue 23.2: fetching the old job, the queue-set pipeline, the enqueue and the outbox
# mark were four): an old job of the same id that is still live means a duplicate (the mark is set all the same);
# one that finished or failed is answered -1, and push() replaces it the long way; else the job hash is written,
# its id pushed onto the queue and the queue named in rq's set of queues — what rq's unique enqueue writes.
_PUSH_SCRIPT = """
if redis.call("EXISTS", KEYS[1]) == 1 then
    local status = redis.call("HGET", KEYS[1], "status")
    if status and string.find("|__LIVE__|", "|" .. status .. "|", 1, true) then
        if #KEYS > 3 then redis.call("SET", KEYS[4], "1", "EX", ARGV[3]) end
        return 0
    end
    return -1
end
redis.call("SADD", KEYS[3], KEYS[2])
redis.call("HSET", KEYS[1], unpack(ARGV, 4))
local ttl = tonumber(ARGV[2])
if ttl and ttl > 0 then redis.call("EXPIRE", KEYS[1], ttl) end
redis.call("RPUSH", KEYS[2], ARGV[1])
if #KEYS > 3 then redis.call("SET", KEYS[4], "1", "EX", ARGV[3]) end
return 1
""".replace("__LIVE__", "|".join(LIVE_STATUSES))
_scripts: dict[int, Any] = {}


def push(job: Job) -> bool:
    """Push one job to rq; False when a job with the same id is still queued, scheduled or running (no duplicate).

    A finished or failed job of the same id is replaced (the work is asked for again). Raises on Redis errors.
    `job.mark` is set when the job is queued or a live one was found (in the same round trip, unless delayed)."""
    q = rq_queue()
    if job.delay_s <= 0:
        at_once = _push_at_once(q, job)
        if at_once is not None:
            return at_once
    added = _push_with_rq(q, job)   # delayed, or an old, finished job of the same id to replace: the long way
    if job.mark is not None:
        q.connection.set(job.mark[0], 1, ex=job.mark[1])
    return added


def _options(job: Job) -> dict[str, Any]:
    return {"job_id": job.job_id, "result_ttl": 3600, "failure_ttl": 7 * 86400,
            "retry": Retry(max=job.retries, interval=list(job.backoff)) if job.retries else None}


def _push_at_once(q: Queue, job: Job) -> bool | None:
    """The job queued in one round trip (True), a live one of its id found (False), or an old one found (None)."""
    rq_job = q.create_job(job.func, args=job.args, kwargs=job.kwargs, timeout=job.timeout_s,
                          status=JobStatus.QUEUED, **_options(job))
    rq_job.enqueued_at = datetime.now(UTC)
    fields: list[Any] = []
    for name, value in rq_job.to_dict().items():
        if value is not None:
            fields += [name, value if isinstance(value, bytes | str) else str(value)]
    keys = [rq_job.key, q.key, q.redis_queues_keys] + ([job.mark[0]] if job.mark else [])
    script = _scripts.get(id(q.connection))
    if script is None:
        script = _scripts[id(q.connection)] = q.connection.register_script(_PUSH_SCRIPT)
    ttl = rq_job.ttl if rq_job.ttl is not None else -1
    result = script(keys=keys, args=[rq_job.id, ttl, job.mark[1] if job.mark else 0, *fields])
    return None if result == -1 else bool(result)


def _push_with_rq(q: Queue, job: Job) -> bool:
    """rq's own enqueue (a delayed job, or one replacing an old job of the same id)."""
    options = {**_options(job), "job_timeout": job.timeout_s}
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
