"""Issue 22.1 under real concurrency (PostgreSQL, one connection per thread): eight phones of eight doctors send
their offline completion of the same task at once — exactly one wins, the others get the typed 409
task_completed_elsewhere, the facts of every phone are kept, the instance completes the task once; and one phone
re-sending the same completion from many threads gets one result."""
from __future__ import annotations

import os
import threading
import uuid

import pytest
from sqlalchemy import func, select

from app.core import db
from app.residents.record_models import Observation
from app.workflows.models import ProcessEvent
from tests.helpers import ApiClient
from tests.mobile_support import Phone, bp, village_task
from tests.test_follow_up_support import make_resident

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                reason="concurrent writers need PostgreSQL")
PHONES = 8


def _race(app, calls) -> list:
    barrier = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return answers


def _own_client(app, phone: Phone) -> Phone:
    """The same user and device on a test client of its own (one per thread)."""
    return Phone(ApiClient(app.test_client(), phone.api.token, phone.user), phone.device_id)


def _count(app, model, *where) -> int:
    with app.app_context():
        n = db.session().scalar(select(func.count()).select_from(model).where(*where))
        db.session().rollback()
        return n


@pytest.fixture()
def task(app, county, deploy_models):
    deploy_models("approval.bpmn", "approval", with_dmn=False)
    resident = {"id": make_resident(app), "name": "王建国"}
    return {"resident": resident, "id": village_task(app, resident)}


def test_eight_phones_complete_the_same_task_and_exactly_one_wins(app, task, login_as):
    phones = [Phone(login_as("village_doctor", org="C01T01V01")) for _ in range(PHONES)]
    seen = [next(t for t in p.pull(None)["tasks"] if t["id"] == task["id"]) for p in phones]
    rid = task["resident"]["id"]

    def call(i):
        def send():
            resp, _ = _own_client(app, phones[i]).complete(seen[i], {"amount": i}, observations=[bp(rid, 120 + i)])
            return resp.status_code, resp.json
        return send

    answers = _race(app, [call(i) for i in range(PHONES)])
    codes = sorted(status for status, _ in answers)
    assert codes == [200] + [409] * (PHONES - 1), answers
    assert {body["details"]["reason"] for status, body in answers if status == 409} == {"task_completed_elsewhere"}
    assert _count(app, Observation, Observation.resident_id == rid) == PHONES          # every phone's facts kept
    with app.app_context():
        from app.workflows.models import HumanTask
        instance = db.session().get(HumanTask, task["id"]).instance_id
        db.session().rollback()
    assert _count(app, ProcessEvent, ProcessEvent.instance_id == instance, ProcessEvent.type == "task_completed") == 1


def test_one_completion_resent_from_many_threads_has_one_result(app, task, login_as):
    phone = Phone(login_as("village_doctor", org="C01T01V01"))
    seen = next(t for t in phone.pull(None)["tasks"] if t["id"] == task["id"])
    cid = str(uuid.uuid4())
    reading = bp(task["resident"]["id"], 131)

    def send():
        resp, _ = _own_client(app, phone).complete(seen, {"amount": 7}, observations=[reading], completion_id=cid,
                                                   completed_at_device="2026-12-04T09:00:00+08:00")
        return resp.status_code, resp.json

    answers = _race(app, [send] * 6)
    assert {status for status, _ in answers} == {200}, answers
    assert all(body == answers[0][1] for _, body in answers)          # one result (PostgreSQL's JSONB may reorder keys)
    assert _count(app, Observation, Observation.resident_id == task["resident"]["id"]) == 1
