"""The rq side of the job queue: the configured mode and Redis, a job's description, and pushing it to rq.

`app.jobs.queue` (enqueue) and `app.jobs.outbox` (the relay) both build on this module; neither imports the other
back.
"""
from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from redis import Redis
from redis.exceptions import DataError, NoScriptError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job as RqJob
from rq.job import JobStatus
from rq.utils import get_call_string, utcformat

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


_queues: dict[tuple[str, str | None], Queue] = {}


def rq_queue() -> Queue:
    """The queue, one object per name and Redis URL (it holds no state of its own: keys, connection, serializer)."""
    q = _queues.get((QUEUE_NAME, _redis_url))
    if q is None:
        q = _queues[(QUEUE_NAME, _redis_url)] = Queue(QUEUE_NAME, connection=redis_connection())
    return q


LIVE_STATUSES = ("created", "queued", "scheduled", "deferred", "started", "rate_limited", "ready_to_enqueue")


# One round trip for a push (issue 23.2: fetching the old job, the queue-set pipeline, the enqueue and the outbox
# mark were four): an old job of the same id that is still live means a duplicate (the mark is set all the same);
# one that finished or failed is answered -1, and push() replaces it the long way; else the job hash is written,
# its id pushed onto the queue and the queue named in rq's set of queues — what rq's unique enqueue writes. The
# hash's fields that are the same for every job of a queue and retry setting come as one JSON array (ARGV[4]), the
# job's own after it (issue 23: with rq's Job built per push, 45 arguments to encode; ≈ 120 -> 80 µs of CPU per
# push in isolation).
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
redis.call("HSET", KEYS[1], unpack(cjson.decode(ARGV[4])))
redis.call("HSET", KEYS[1], unpack(ARGV, 5))
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


# the fields of rq's job hash that are the job's own (the others are the same for a queue and retry setting)
_OWN_FIELDS = ("created_at", "data", "description", "enqueued_at")
_templates: dict[tuple[Any, ...], tuple[bytes, int]] = {}


def _template(q: Queue, job: Job) -> tuple[bytes, int]:
    """The hash fields every job of this queue, timeout and retry setting shares, as rq's own job writes them (one
    JSON array of names and values), and the job key's lifetime (-1: none)."""
    key = (q.name, q.serializer, job.timeout_s, job.retries, job.backoff)
    template = _templates.get(key)
    if template is None:
        probe = q.create_job("probe", timeout=job.timeout_s, status=JobStatus.QUEUED, **_options(job))
        fields = [x if isinstance(x, str) else str(x)      # a str enum (the status) as its value
                  for name, value in probe.to_dict().items() if value is not None and name not in _OWN_FIELDS
                  for x in (name, value)]
        template = _templates[key] = (json.dumps(fields).encode(), probe.ttl if probe.ttl is not None else -1)
    return template


def _push_at_once(q: Queue, job: Job) -> bool | None:
    """The job queued in one round trip (True), a live one of its id found (False), or an old one found (None).
    The job's hash is rq's (`Job.create` and `to_dict`, tests/api/test_job_queue_rq.py holds them equal), built
    without an rq Job: the shared fields once per queue and retry setting, the job's own here."""
    shared, ttl = _template(q, job)
    job_id = job.job_id or str(uuid4())
    at = utcformat(datetime.now(UTC))
    data = zlib.compress(q.serializer.dumps((job.func, None, job.args, job.kwargs)))
    description = get_call_string(job.func, job.args, job.kwargs, max_length=75) or ""   # a str func: never None
    keys = [RqJob.redis_job_namespace_prefix + job_id, q.key, q.redis_queues_keys]
    if job.mark:
        keys.append(job.mark[0])
    script = _scripts.get(id(q.connection))
    if script is None:
        script = _scripts[id(q.connection)] = q.connection.register_script(_PUSH_SCRIPT)
    result = _run_script(q.connection, script, keys, [job_id, ttl, job.mark[1] if job.mark else 0, shared,
                                                      "created_at", at, "data", data, "description", description,
                                                      "enqueued_at", at])
    return None if result == -1 else bool(result)


def _run_script(client: Redis, script: Any, keys: list[str], args: list[Any]) -> Any:
    """`script(keys=keys, args=args)` as redis-py runs it (a pooled connection, the client's retry on connection
    errors with a reconnect, the script loaded once more when Redis answers NOSCRIPT), the command packed here: redis-py
    encodes each of a push's 19 arguments through a chain of type checks (issue 23: ≈ 40 of a push's ≈ 160 µs of CPU
    in a loop)."""
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        try:
            return _call(conn, _packed([b"EVALSHA", script.sha, len(keys), *keys, *args]))
        except NoScriptError:
            _call(conn, _packed([b"SCRIPT", b"LOAD", script.script]))
            return _call(conn, _packed([b"EVALSHA", script.sha, len(keys), *keys, *args]))
    finally:
        pool.release(conn)


def _call(conn: Any, packed: bytes) -> Any:
    def send() -> Any:
        conn.send_packed_command([packed])
        return conn.read_response()
    return conn.retry.call_with_retry(send, lambda _error: conn.disconnect())


def _packed(parts: list[Any]) -> bytes:
    """One RESP command, its parts encoded as redis-py's encoder does (bytes as they are, text as UTF-8, numbers by
    `repr`)."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        if isinstance(part, bytes):
            data = part
        elif isinstance(part, str):
            data = part.encode()
        elif isinstance(part, (int, float)) and not isinstance(part, bool):
            data = repr(part).encode()
        else:
            raise DataError(f"cannot send {type(part).__name__} to Redis")
        out += (b"$%d\r\n" % len(data), data, b"\r\n")
    return b"".join(out)


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
