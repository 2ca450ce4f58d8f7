"""The production web server (gunicorn, threaded workers) on PostgreSQL: one worker process keeps serving while one
of its requests waits on the database, and a request stuck on a row lock is ended by the web processes' statement
timeout with 503 `database_timeout`, having changed nothing, so the same completion succeeds once the lock is gone.

With the sync workers used before, the second request queued behind the first, and the first hung until the worker
was killed (60 s) and the proxy answered 502."""
from __future__ import annotations

import http.client
import json
import os
import threading
import time
import urllib.parse
import uuid

import psycopg
import pytest
import requests

from tests.processes import gunicorn_server

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                reason="gunicorn serves the PostgreSQL mode (the embedded default is waitress)")


@pytest.fixture()
def one_worker(app, database_url, tmp_path):
    with gunicorn_server(app.config["YGT"], database_url, tmp_path / "serve.log", "--workers", "1",
                         WEB_STATEMENT_TIMEOUT_S="2") as server:
        yield server


def test_a_request_stuck_on_a_lock_ends_with_503_while_the_worker_serves_others(one_worker, database_url,
                                                                                 deploy_models, login_as):
    base, proc = one_worker
    deploy_models("approval.bpmn", "approval")
    doctor = login_as("township_doctor", org="C01T01")
    auth = {"Authorization": f"Bearer {doctor.token}"}
    inst = requests.post(f"{base}/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"},
                         headers=auth, timeout=10)
    assert inst.status_code == 201, inst.text
    task_id = inst.json()["open_tasks"][0]["id"]
    body = {"data": {"amount": 150, "comment": "锁"}, "completion_id": str(uuid.uuid4())}

    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as holder:
        holder.execute("SELECT id FROM human_tasks WHERE id = %s FOR UPDATE", (task_id,))   # another writer's lock
        stuck: dict = {}

        def complete():
            started = time.monotonic()
            stuck["response"] = requests.post(f"{base}/api/v1/tasks/{task_id}/complete", json=body, headers=auth,
                                              timeout=30)
            stuck["seconds"] = time.monotonic() - started
        waiting = threading.Thread(target=complete)
        waiting.start()
        time.sleep(0.5)                         # the completion now waits for the row lock in the only worker
        t0 = time.monotonic()
        me = requests.get(f"{base}/api/v1/auth/me", headers=auth, timeout=10)
        assert me.status_code == 200, me.text
        assert time.monotonic() - t0 < 1.5, "the worker's other thread should answer at once"
        waiting.join(20)
        holder.rollback()

    response = stuck["response"]
    assert response.status_code == 503, (response.status_code, response.text, proc.tail())
    assert response.json()["code"] == "database_timeout"
    assert response.headers["Retry-After"]
    assert 1.5 < stuck["seconds"] < 10
    # nothing of the completion was applied: the same completion goes through now
    task = requests.get(f"{base}/api/v1/tasks/{task_id}", headers=auth, timeout=10).json()
    assert task["status"] == "open"
    done = requests.post(f"{base}/api/v1/tasks/{task_id}/complete", json=body, headers=auth, timeout=10)
    assert done.status_code == 200, done.text
    assert [t["element_id"] for t in done.json()["next_tasks"]] == ["task_b"]


def test_kept_alive_connections_are_served_without_a_new_handshake(one_worker, login_as):
    base, _proc = one_worker
    doctor = login_as("township_doctor", org="C01T01")
    conn = http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=10)
    sockets = set()
    for _ in range(6):
        conn.request("GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {doctor.token}"})
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read())["username"] == doctor.user.username
        assert not response.will_close
        sockets.add(id(conn.sock))
    conn.close()
    assert len(sockets) == 1, "one TCP connection served all six requests"
