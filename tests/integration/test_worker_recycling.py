"""gunicorn replaces each web worker after `WEB_MAX_REQUESTS` requests (a guard against slow leaks). A replacement must
cost a fork of the master, not a second start of the application: the application is loaded once, in the master,
before the workers are forked (`preload_app`), and everything a worker holds that must not be shared (database and
Redis connections, the script zygote's sockets) is re-opened in the worker.

Before, each replacement imported and built the whole application again (≈ 3.7 s of CPU on the 2-core benchmark
machine, 2026-12-05): with the default of 2,000 requests that was ≈ 1.9 ms of CPU per request, a quarter of an
engine-path request's own cost, that the benchmark (which ran between two replacements) never showed."""
from __future__ import annotations

import os
import time
import uuid

import pytest
import requests

from tests.processes import gunicorn_server, wait_for

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                reason="gunicorn serves the PostgreSQL mode (the embedded default is waitress)")

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children(pid: int, *, zygote: bool = False) -> list[int]:
    """The gunicorn master's worker processes, or (`zygote`) the script zygote it started."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids = [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []
    found = []
    for child in pids:
        try:
            with open(f"/proc/{child}/cmdline", "rb") as f:
                if (b"app.engine.zygote" in f.read()) == zygote:
                    found.append(child)
        except FileNotFoundError:
            continue
    return found


@pytest.fixture()
def recycling_worker(app, database_url, tmp_path):
    with gunicorn_server(app.config["YGT"], database_url, tmp_path / "serve.log", "--workers", "1", "--threads", "2",
                         WEB_MAX_REQUESTS="6") as server:
        yield server


def test_a_replaced_worker_is_a_fork_of_the_loaded_application(recycling_worker, deploy_models, login_as):
    base, proc = recycling_worker
    # the master warmed what every worker shares before forking the first one: the script zygote is its child
    assert children(proc.pid, zygote=True), "the master started no script zygote before forking"
    deploy_models("approval.bpmn", "approval")
    doctor = login_as("township_doctor", org="C01T01")
    auth = {"Authorization": f"Bearer {doctor.token}"}
    workers_seen: set[int] = set()
    # each instance: a start and two completions; a new connection per request, so each lands on the live worker
    for _ in range(8):
        workers_seen.update(children(proc.pid))
        inst = requests.post(f"{base}/api/v1/process-instances", json={"process_id": "approval",
                                                                         "org_code": "C01T01"},
                             headers={**auth, "Connection": "close"}, timeout=30)
        assert inst.status_code == 201, inst.text
        task = inst.json()["open_tasks"][0]
        a = requests.post(f"{base}/api/v1/tasks/{task['id']}/complete", headers={**auth, "Connection": "close"},
                          json={"data": {"amount": 150, "comment": "换"}, "completion_id": str(uuid.uuid4())},
                          timeout=30)
        assert a.status_code == 200, a.text
        b = requests.post(f"{base}/api/v1/tasks/{a.json()['next_tasks'][0]['id']}/complete",
                          headers={**auth, "Connection": "close"},
                          json={"data": {"approved": True}, "completion_id": str(uuid.uuid4())}, timeout=30)
        assert b.status_code == 200, b.text
        assert b.json()["status"] == "completed"
    assert wait_for(lambda: bool(children(proc.pid)), timeout=30)
    workers_seen.update(children(proc.pid))
    assert len(workers_seen) >= 3, f"24 requests at 6 per worker should have replaced the worker: {workers_seen}"

    # the worker that replaced the last one has served nothing yet (no request since): its CPU after a moment is what
    # its start cost. The application's start is in the master's CPU (gunicorn alone takes a fraction of a second)
    # (the worker that served the last request may still be on its way out: wait until the same one stays)
    settled: list[int] = []

    def one_worker_stays() -> bool:
        before = children(proc.pid)
        time.sleep(1)
        settled[:] = children(proc.pid)
        return len(settled) == 1 and settled == before

    assert wait_for(one_worker_stays, timeout=30)
    fresh = settled[0]
    master = cpu_s(proc.pid)
    assert master > 0.5, f"the application is loaded in the master ({master:.2f} s of CPU)"
    assert cpu_s(fresh) < master / 4, (f"a replacement worker started the application again: {cpu_s(fresh):.2f} s "
                                      f"of CPU against the master's {master:.2f} s")
