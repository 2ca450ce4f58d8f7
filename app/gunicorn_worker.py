"""gunicorn's threaded worker (`gthread`) without two costs it pays on every request (issue 23.2: ≈ 2 % of a worker's
CPU on the engine path, docs/benchmarks.md).

* The heartbeat. The worker tells the master it is alive by touching a temporary file (`os.utime`) on every turn of
  its event loop, two or three times per request. The master only looks whether the file is older than `timeout`
  (60 s, app/serving.py), so touching it once a second says the same thing.
* The `Date` header. gunicorn formats it with `email.utils.formatdate` for every response; it changes once a second,
  so it is formatted once a second (`http_date`, the same text for the same second). gunicorn's `Response` looks the
  function up as `gunicorn.util.http_date` when it writes its headers; the worker puts this one there when it starts
  (only in worker processes; the master and any other code keep gunicorn's).

Everything else is gunicorn's `ThreadWorker`. tests/unit/test_gunicorn_worker.py checks both against gunicorn's own.
"""
from __future__ import annotations

import email.utils
import time

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker as GunicornThreadWorker

HEARTBEAT_EVERY_S = 1.0

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

    def notify(self) -> None:
        now = time.monotonic()
        if now - self._last_beat >= HEARTBEAT_EVERY_S:
            self._last_beat = now
            super().notify()
