"""The script worker pool: OS-enforced limits, helpers and the platform clock in the worker, concurrency, forks."""
from __future__ import annotations

import os
import signal
import threading
from datetime import timedelta

import pytest

from app.core import clock
from app.engine import isolation
from app.engine.sandbox import SandboxError
from app.workflows import bindings

PRELOAD = ("app.workflows.bindings",)


@pytest.fixture(scope="module")
def pool():
    return isolation.pool(preload=PRELOAD)


def test_a_script_runs_with_the_helpers_and_the_callers_platform_clock(pool):
    clock.advance(timedelta(days=90))
    try:
        names = pool.run("exec", "seen = today()\nlater = add_days(seen, 1)", {"x": 1},
                         helpers=bindings.SCRIPT_HELPERS, timeout_s=5,
                         setup=(bindings.sync_clock, (bindings.clock_state(),)))
    finally:
        clock.reset()
    assert names["x"] == 1
    assert names["seen"] == clock.date_of(clock.now() + timedelta(days=90)).isoformat()


def test_two_threads_run_scripts_at_the_same_time(pool):
    results, errors = {}, []

    def work(n):
        try:
            results[n] = pool.run("exec", "y = x * 2", {"x": n}, helpers={}, timeout_s=5)["y"]
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == {n: n * 2 for n in range(6)}


def test_a_killed_worker_is_replaced(pool):
    pool.run("eval", "1", {}, helpers={}, timeout_s=5)
    for worker in list(pool._idle):
        os.kill(worker.pid, signal.SIGKILL)
    assert pool.run("eval", "x + 1", {"x": 41}, helpers={}, timeout_s=5) == 42


def test_data_that_cannot_travel_is_a_script_error_not_a_crash(pool):
    with pytest.raises(SandboxError) as err:
        pool.run("eval", "1", {"lock": threading.Lock()}, helpers={}, timeout_s=5)
    assert err.value.code == "script_error"
    assert pool.run("eval", "2", {}, helpers={}, timeout_s=5) == 2


def test_a_forked_process_gets_its_own_workers_from_the_same_zygote(pool):
    pool.run("eval", "1", {}, helpers={}, timeout_s=5)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what an rq job process does
        try:
            value = isolation.pool(preload=PRELOAD).run("eval", "x * 3", {"x": 5}, helpers={}, timeout_s=5)
            os.write(write, str(value).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"15"
    assert pool.run("eval", "x * 4", {"x": 5}, helpers={}, timeout_s=5) == 20   # the parent's still work
