"""app/gunicorn_worker.py: gunicorn's threaded worker, its heartbeat once a second and its Date header formatted
once a second; the same as gunicorn's own for what the master and the client see."""
from __future__ import annotations

import email.utils
import os
import time

import pytest
from gunicorn import util
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.workers.workertmp import WorkerTmp

from app import gunicorn_worker
from app.gunicorn_worker import HEARTBEAT_EVERY_S, ThreadWorker, http_date


def test_the_date_is_gunicorns_for_every_second_and_any_timestamp():
    gunicorn_own = util.http_date
    assert gunicorn_own is not http_date        # this process is no worker: gunicorn's own is in place
    for timestamp in (0, 1.999, 86_399.5, 951_782_400, 1_796_534_000.25, 4_102_444_800):
        assert http_date(timestamp) == gunicorn_own(timestamp) == email.utils.formatdate(timestamp, usegmt=True)
    before = int(time.time())
    now = http_date()
    after = int(time.time())
    assert now in {gunicorn_own(t) for t in range(before, after + 1)}


def test_now_is_formatted_once_a_second(monkeypatch):
    calls = []
    real = email.utils.formatdate
    monkeypatch.setattr(gunicorn_worker.email.utils, "formatdate",
                        lambda *a, **k: calls.append(a) or real(*a, **k))
    clock = [1_796_534_000.1]
    monkeypatch.setattr(gunicorn_worker.time, "time", lambda: clock[0])
    first = http_date()
    clock[0] = 1_796_534_000.9
    assert http_date() == first and len(calls) == 1
    clock[0] = 1_796_534_001.0
    assert http_date() == real(1_796_534_001, usegmt=True) != first and len(calls) == 2


def test_gunicorns_response_writes_the_workers_date(monkeypatch):
    """gunicorn's Response looks the function up in gunicorn.util when it writes its headers: the worker's is used
    once the worker put it there (as `ThreadWorker.init_process` does)."""
    monkeypatch.setattr(util, "http_date", http_date)

    class Req:
        version, method, headers, uri, path, query = (1, 1), "GET", [], "/", "/", ""

        def should_close(self):
            return False

    resp = wsgi.Response(Req(), None, Config())
    resp.start_response("200 OK", [("Content-Type", "text/plain")])
    date = next(h for h in resp.default_headers() if h.startswith("Date: "))
    assert date == f"Date: {http_date()}\r\n"


@pytest.fixture
def worker(monkeypatch):
    w = object.__new__(ThreadWorker)
    w.tmp = WorkerTmp(Config())
    yield w
    w.tmp.close()


def test_the_heartbeat_is_touched_once_a_second(worker, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(gunicorn_worker.time, "monotonic", lambda: clock[0])
    touched = []
    real_utime = os.utime
    monkeypatch.setattr("gunicorn.workers.workertmp.os.utime", lambda *a: touched.append(a) or real_utime(*a))
    worker.notify()
    assert len(touched) == 1
    clock[0] += HEARTBEAT_EVERY_S / 2
    worker.notify()
    assert len(touched) == 1                    # within the second: nothing written
    clock[0] += HEARTBEAT_EVERY_S / 2
    worker.notify()
    assert len(touched) == 2


def test_the_master_sees_a_busy_worker_alive(worker):
    """The arbiter kills a worker whose file is older than `timeout` (monotonic seconds, gunicorn's own check)."""
    worker.notify()
    assert time.monotonic() - worker.tmp.last_update() <= HEARTBEAT_EVERY_S + 1
    assert HEARTBEAT_EVERY_S * 10 <= 60          # app/serving.py's timeout leaves room for many missed beats
