"""The rq side of the job queue: the configured mode and Redis, a job's description, and pushing it to rq.

`app.jobs.queue` (enqueue) and `app.jobs.outbox` (the relay) both build on this module; neither imports the other
back.
"""
from __future__ import annotations

import json
import os
import threading
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from redis import Redis
from redis.exceptions import ConnectionError, DataError, NoScriptError, ResponseError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job as RqJob
from rq.job import JobStatus
from rq.utils import get_call_string

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
# hash's fields that are the same for every job of a queue and retry setting come as one JSON array (ARGV[2]), the
# job's own after it (issue 23: with rq's Job built per push, 45 arguments to encode; ≈ 120 -> 80 µs of CPU per
# push in isolation). The keys and arguments that are the same for every push of a queue and retry setting come
# first, so the command's start is packed once (`_command`).
#   KEYS: the queue, rq's set of queues, the job's hash, [the outbox's mark]
#   ARGV: the hash's lifetime (-1: none), the shared fields, the job id, the mark's lifetime, the job's creation (and
#         enqueue) time, its data, its description
_PUSH_SCRIPT = """
if redis.call("EXISTS", KEYS[3]) == 1 then
    local status = redis.call("HGET", KEYS[3], "status")
    if status and string.find("|__LIVE__|", "|" .. status .. "|", 1, true) then
        if #KEYS > 3 then redis.call("SET", KEYS[4], "1", "EX", ARGV[4]) end
        return 0
    end
    return -1
end
redis.call("SADD", KEYS[2], KEYS[1])
redis.call("HSET", KEYS[3], unpack(cjson.decode(ARGV[2])))
redis.call("HSET", KEYS[3], "created_at", ARGV[5], "data", ARGV[6], "description", ARGV[7], "enqueued_at", ARGV[5])
local ttl = tonumber(ARGV[1])
if ttl and ttl > 0 then redis.call("EXPIRE", KEYS[3], ttl) end
redis.call("RPUSH", KEYS[1], ARGV[3])
if #KEYS > 3 then redis.call("SET", KEYS[4], "1", "EX", ARGV[4]) end
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
    without an rq Job: the shared fields once per queue and retry setting, the job's own here; the command packed
    here too, its start once per queue and retry setting (`_command`)."""
    script = _scripts.get(id(q.connection))
    if script is None:
        script = _scripts[id(q.connection)] = q.connection.register_script(_PUSH_SCRIPT)
    head, middle = _command(q, job, script)
    job_id = job.job_id or str(uuid4())
    data = compress(q.serializer.dumps((job.func, None, job.args, job.kwargs)))
    description = get_call_string(job.func, job.args, job.kwargs, max_length=75) or ""   # a str func: never None
    parts = [head, _bulk((RqJob.redis_job_namespace_prefix + job_id).encode())]
    if job.mark:
        parts.append(_bulk(job.mark[0].encode()))
    parts += (middle, _bulk(job_id.encode()), _bulk(b"%d" % (job.mark[1] if job.mark else 0)),
              _bulk(utc_text(datetime.now(UTC)).encode()), _bulk(data), _bulk(description.encode()))
    result = _run_script(_own_connection(q.connection), script, b"".join(parts))
    return None if result == -1 else bool(result)


_commands: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}


def _command(q: Queue, job: Job, script: Any) -> tuple[bytes, bytes]:
    """A push's EVALSHA packed up to the job's own keys (its header, the script, the queue's keys), and the shared
    arguments that follow those keys (the hash's lifetime, the shared fields): the same for every push of a queue,
    retry setting and script."""
    key = (script.sha, q.name, q.serializer, job.timeout_s, job.retries, job.backoff, job.mark is not None)
    command = _commands.get(key)
    if command is None:
        shared, ttl = _template(q, job)
        keys = 4 if job.mark is not None else 3
        head = b"*%d\r\n" % (3 + keys + 7) + b"".join(map(_part, [b"EVALSHA", script.sha, keys, q.key,
                                                                     q.redis_queues_keys]))
        command = _commands[key] = (head, _part(ttl) + _part(shared))
    return command


def compress(data: bytes) -> bytes:
    """`zlib.compress(data)` (what rq's job hash holds), for a job's data (≈ 100 bytes) with the compressor's
    memory sized to it: zlib sets up ≈ 256 KiB for any input (issue 23: ≈ 25-75 µs of a push's CPU on a loaded
    host, ≈ 15-25 µs so). Level, method and window are zlib's defaults, so the stream's header is the same; the smaller hash table
    and symbol buffer (memLevel) change nothing for inputs this short (one block; tests/unit/test_jobs_push.py holds
    the bytes equal to `zlib.compress` for thousands of inputs) and rq decompresses any zlib stream. Longer data goes
    through `zlib.compress` itself."""
    size = len(data)
    if size > COMPRESS_SIZED_MAX:
        return zlib.compress(data)
    level = 1
    while (1 << (level + 6)) <= 2 * size:     # the symbol buffer (2 ** (memLevel + 6)) at least twice the input
        level += 1
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, zlib.MAX_WBITS, level)
    return compressor.compress(data) + compressor.flush()


COMPRESS_SIZED_MAX = 1024


def utc_text(at: datetime) -> str:
    """rq's `utcformat(at)` (`%Y-%m-%dT%H:%M:%S.%fZ`) for an aware UTC time, without strftime."""
    return at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


_local = threading.local()


def _forget_own_connections() -> None:
    global _local
    _local = threading.local()          # a forked child opens its own (the parent's sockets stay the parent's)


os.register_at_fork(after_in_child=_forget_own_connections)


class _Own:
    """A thread's own connection for pushes, and whether it answered before (Redis may have closed it since)."""
    __slots__ = ("answered", "client", "conn")

    def __init__(self, client: Redis) -> None:
        pool = client.connection_pool
        self.client, self.conn, self.answered = client, pool.connection_class(**pool.connection_kwargs), False


def _own_connection(client: Redis) -> _Own:
    """This thread's own connection to `client`'s Redis, for its pushes: made with the client's pool's settings,
    never in that pool (issue 23: checking a connection out of the pool and back is ≈ 8-10 µs of CPU: a lock, pid
    checks, a non-blocking read and two timeout changes to find the connection clean, metrics). It is clean
    without that check: `_run_script` reads every answer it asks for and drops the connection on any error but an
    answer of Redis's own; a connection Redis closed since its last answer fails the next send or read, and that
    command is sent once more on a new connection (`_call`)."""
    own = getattr(_local, "connections", None)
    if own is None:
        own = _local.connections = {}
    found = own.get(id(client))
    if found is None or found.client is not client:
        found = own[id(client)] = _Own(client)
    return found


def _run_script(own: _Own, script: Any, command: bytes) -> Any:
    """The packed EVALSHA `command` of `script` on `own`'s connection as redis-py runs a script (a closed connection
    reopened, the script loaded once more when Redis answers NOSCRIPT)."""
    try:
        try:
            return _call(own, command)
        except NoScriptError:
            _call(own, _packed([b"SCRIPT", b"LOAD", script.script]))
            return _call(own, command)
    except ResponseError:                   # Redis's own answer, read whole: the connection is still in step
        raise
    except BaseException:                   # maybe an answer left unread: never reuse the connection as it is
        own.conn.disconnect()
        own.answered = False
        raise


def _call(own: _Own, packed: bytes) -> Any:
    """Send one packed command and read its answer. A connection that answered before and fails now was closed by
    Redis (a restart, an idle timeout, `CLIENT KILL`): the command goes once more on a new connection, as the pool's
    check of a connection before its use would have reopened it (a command Redis ran before it closed the connection
    is a push of a job that is then live: the second answer is a duplicate, nothing runs twice). A new connection
    that fails means Redis is down: that is raised at once (no second connect timeout)."""
    conn = own.conn
    try:
        conn.send_packed_command([packed])
        answer = conn.read_response()
    except ConnectionError:
        conn.disconnect()
        if not own.answered:
            raise
        own.answered = False
        conn.send_packed_command([packed])
        answer = conn.read_response()
    own.answered = True
    return answer


def _packed(parts: list[Any]) -> bytes:
    """One RESP command, its parts encoded as redis-py's encoder does (bytes as they are, text as UTF-8, numbers by
    `repr`)."""
    return b"*%d\r\n" % len(parts) + b"".join(map(_part, parts))


def _part(part: Any) -> bytes:
    if isinstance(part, bytes):
        return _bulk(part)
    if isinstance(part, str):
        return _bulk(part.encode())
    if isinstance(part, (int, float)) and not isinstance(part, bool):
        return _bulk(repr(part).encode())
    raise DataError(f"cannot send {type(part).__name__} to Redis")


def _bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


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
