"""app/gunicorn_worker.py: gunicorn's threaded worker, its heartbeat once a second and its Date header formatted
once a second; the same as gunicorn's own for what the master and the client see."""
from __future__ import annotations

import email.utils
import io
import os
import socket
import time
from types import SimpleNamespace

import pytest
from gunicorn import util
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.workers.workertmp import WorkerTmp

from app import gunicorn_worker
from app.gunicorn_worker import HEARTBEAT_EVERY_S, ThreadWorker, http_date
from app.serving import gunicorn_options


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
    """The arbiter kills a worker whose file is older than `timeout` (monotonic seconds, gunicorn's own check): a
    beat once a second keeps a busy worker well inside the production setting's timeout."""
    worker.notify()
    timeout = gunicorn_options("127.0.0.1:0", 1)["timeout"]
    assert time.monotonic() - worker.tmp.last_update() <= timeout
    assert HEARTBEAT_EVERY_S * 10 <= timeout


class _Conn:
    """What the linger looks at of gunicorn's TConn: its socket, its parser's read-ahead, whether it is HTTP/2."""

    def __init__(self, sock, ahead: bytes = b"") -> None:
        self.sock, self.is_http2 = sock, False
        self.parser = SimpleNamespace(unreader=SimpleNamespace(buf=io.BytesIO(ahead)))


def test_a_next_request_is_seen_when_sent_read_ahead_or_the_client_closes():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        started = time.monotonic()
        assert not gunicorn_worker._next_request_arrives(_Conn(ours))        # nothing within the linger
        assert time.monotonic() - started >= gunicorn_worker.KEEPALIVE_LINGER_MS / 1000 * 0.9
        assert gunicorn_worker._next_request_arrives(_Conn(ours, b"GET / HTTP/1.1\r\n"))   # already read ahead
        theirs.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert gunicorn_worker._next_request_arrives(_Conn(ours))
        ours.recv(100)
        theirs.close()
        assert gunicorn_worker._next_request_arrives(_Conn(ours))           # the end: gunicorn's handle closes it


@pytest.mark.parametrize(("answers", "arrivals", "handled", "returned"), [
    ([True, True, False], [True, True], 3, False),        # two more requests on the connection, then it closed
    ([True, True], [True, False], 2, True),               # one more, then nothing within the linger: back to the loop
    (["defer"], [], 1, "defer"),                          # no data at first: gunicorn's deferral, as it is
    ([False], [], 1, False),
])
def test_the_thread_serves_the_connection_while_requests_follow(monkeypatch, answers, arrivals, handled, returned):
    calls = []
    monkeypatch.setattr(gunicorn_worker.GunicornThreadWorker, "handle",
                        lambda self, conn: calls.append(conn) or answers[len(calls) - 1])
    waits = iter(arrivals)
    monkeypatch.setattr(gunicorn_worker, "_next_request_arrives", lambda conn: next(waits))
    w = object.__new__(ThreadWorker)
    w.alive = True
    assert w.handle(_Conn(None)) == returned
    assert len(calls) == handled


def test_a_stopping_worker_or_no_linger_hands_the_connection_back(monkeypatch):
    monkeypatch.setattr(gunicorn_worker.GunicornThreadWorker, "handle", lambda self, conn: True)
    monkeypatch.setattr(gunicorn_worker, "_next_request_arrives", lambda conn: pytest.fail("no wait expected"))
    w = object.__new__(ThreadWorker)
    w.alive = False                                        # max_requests reached, or a graceful stop
    assert w.handle(_Conn(None)) is True
    w.alive = True
    monkeypatch.setattr(gunicorn_worker, "KEEPALIVE_LINGER_MS", 0)
    assert w.handle(_Conn(None)) is True
