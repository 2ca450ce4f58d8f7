"""gunicorn's threaded worker (`gthread`) without three costs it pays on every request (issue 23.2: ≈ 2 % of a worker's
CPU on the engine path for the first two, docs/benchmarks.md).

* The heartbeat. The worker tells the master it is alive by touching a temporary file (`os.utime`) on every turn of
  its event loop, two or three times per request. The master only looks whether the file is older than `timeout`
  (60 s, app/serving.py), so touching it once a second says the same thing.
* The `Date` header. gunicorn formats it with `email.utils.formatdate` for every response; it changes once a second,
  so it is formatted once a second (`http_date`, the same text for the same second). gunicorn's `Response` looks the
  function up as `gunicorn.util.http_date` when it writes its headers; the worker puts this one there when it starts
  (only in worker processes; the master and any other code keep gunicorn's).
* The hop back to the event loop between two requests of one connection. After a response on a kept-alive
  connection gunicorn's thread hands the connection to the worker's main thread, which registers it with its poller,
  wakes on the next request, unregisters it and hands it to a thread of the pool again: two thread hand-offs, four
  system calls and the interpreter lock passed back and forth, per request. A client that sends its next request at
  once (an API client, a page loading its data) gets it read by the same thread instead: the thread waits up to
  `KEEPALIVE_LINGER_MS` (3 ms; `WEB_KEEPALIVE_LINGER_MS`, 0: never) for it, holding no lock, and otherwise hands the
  connection back as gunicorn does. A thread waits at most that long per response, so a request on another
  connection queued behind it waits at most that long too; a request arriving bit by bit holds the thread as it holds
  it in gunicorn's own path (which reads a kept-alive connection's request in a pool thread as well).

Everything else is gunicorn's `ThreadWorker`. tests/unit/test_gunicorn_worker.py checks each against gunicorn's own;
tests/integration/test_web_server.py runs the real server with it.
"""
from __future__ import annotations

import email.utils
import os
import select
import time

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker as GunicornThreadWorker

HEARTBEAT_EVERY_S = 1.0
# how long a thread that answered on a kept-alive connection waits for that connection's next request itself
KEEPALIVE_LINGER_MS = int(os.environ.get("WEB_KEEPALIVE_LINGER_MS", "3"))

_formatted: tuple[int, str] = (-1, "")


def http_date(timestamp: float | None = None) -> str:
    """`gunicorn.util.http_date`: the time (now by default) as an HTTP date, now's text formatted once a second."""
    global _formatted   # one (second, text) pair, replaced whole: a reader sees either pair
    if timestamp is not None:
        return email.utils.formatdate(timestamp, localtime=False, usegmt=True)
    second = int(time.time())
    cached = _formatted
    if cached[0] == second:
        return cached[1]
    text = email.utils.formatdate(second, localtime=False, usegmt=True)
    _formatted = (second, text)
    return text


class ThreadWorker(GunicornThreadWorker):
    _last_beat = float("-inf")

    def init_process(self) -> None:
        util.http_date = http_date
        super().init_process()      # runs the worker until it stops

    def handle(self, conn):
        """gunicorn's `handle`, then the connection's next requests as long as each arrives within
        `KEEPALIVE_LINGER_MS`; after that the connection goes back to gunicorn's event loop as before."""
        result = super().handle(conn)
        while (result is True and self.alive and KEEPALIVE_LINGER_MS > 0 and not conn.is_http2
               and _next_request_arrives(conn)):
            result = super().handle(conn)
        return result

    def notify(self) -> None:
        now = time.monotonic()
        if now - self._last_beat >= HEARTBEAT_EVERY_S:
            self._last_beat = now
            super().notify()


def _next_request_arrives(conn) -> bool:
    """Whether the connection's next request (or its end) is there within `KEEPALIVE_LINGER_MS`."""
    if conn.parser.unreader.buf.getvalue():        # read ahead with the last body: gunicorn hands it on at once too
        return True
    poll = select.poll()
    poll.register(conn.sock, select.POLLIN)
    return bool(poll.poll(KEEPALIVE_LINGER_MS))
