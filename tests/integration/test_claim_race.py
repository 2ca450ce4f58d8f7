"""Races on one task through the real app and database (threads, one connection each): of many simultaneous
claims exactly one wins; of two simultaneous completions exactly one acts."""
from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from app.core import db
from app.workflows.models import ProcessEvent


@pytest.fixture()
def task_id(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    admin = login_as("county_admin")
    inst = admin.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01V01"}).json
    return next(t["id"] for t in admin.get("/api/v1/tasks?view=org").json["items"] if t["instance_id"] == inst["id"])


def race(app, tokens, method, url, bodies):
    """Send one request per token at the same moment; the responses' (status, code) in token order."""
    barrier = threading.Barrier(len(tokens))
    results: list = [None] * len(tokens)

    def run(i, token):
        client = app.test_client()
        barrier.wait()
        resp = getattr(client, method)(url, json=bodies[i], headers={"Authorization": f"Bearer {token}"})
        results[i] = (resp.status_code, (resp.get_json() or {}).get("code"))
        db.remove_session()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_of_simultaneous_claims_exactly_one_wins(app, login_as, task_id):
    doctors = [login_as("township_doctor", org="C01T01") for _ in range(6)]
    results = race(app, [d.token for d in doctors], "post", f"/api/v1/tasks/{task_id}/claim", [None] * 6)
    assert sorted(results) == [(200, None)] + [(409, "task_already_claimed")] * 5
    winner = doctors[[r[0] for r in results].index(200)]
    assert winner.get(f"/api/v1/tasks/{task_id}").json["assignee"]["id"] == winner.user.id


def test_of_two_simultaneous_completions_exactly_one_acts(app, login_as, task_id):
    doctors = [login_as("township_doctor", org="C01T01") for _ in range(2)]
    bodies = [{"data": {"amount": 500}, "completion_id": str(uuid.uuid4())} for _ in doctors]
    results = race(app, [d.token for d in doctors], "post", f"/api/v1/tasks/{task_id}/complete", bodies)
    assert sorted(s for s, _ in results) == [200, 409], results
    assert next(c for s, c in results if s == 409) in ("task_already_claimed", "task_already_completed",
                                                     "task_reassigned", "instance_busy")
    with app.app_context():
        done = db.session().scalar(select(func.count()).select_from(ProcessEvent).where(
            ProcessEvent.type == "task_completed"))
    assert done == 1
