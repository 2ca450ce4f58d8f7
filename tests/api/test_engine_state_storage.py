"""A step's state is stored as the JSON text the engine wrote it to (issue 23.2: orjson's compact UTF-8 text on
PostgreSQL's `json` column, sent as is), reads back as the state, and the next step loads it: a state stored before,
in `json.dumps`'s form, loads alike."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from app.core import db


@pytest.fixture()
def approval(deploy_models):
    deploy_models("approval.bpmn", "approval")


def _stored(app, instance_id: int) -> tuple[str, dict]:
    with app.app_context():
        raw = db.session().execute(text("SELECT CAST(state AS TEXT) FROM process_instances WHERE id = :i"),
                                   {"i": instance_id}).scalar_one()
        db.session().rollback()
    return raw, json.loads(raw)


def _complete(user, task_id, data):
    done = user.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data, "completion_id": str(uuid.uuid4())})
    assert done.status_code == 200, done.json
    return done.json


def test_a_steps_state_is_stored_as_its_text_and_the_next_step_loads_it(login_as, approval, app):
    doctor = login_as("township_doctor", org="C01T01")
    inst = doctor.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"})
    assert inst.status_code == 201, inst.json
    a = _complete(doctor, inst.json["open_tasks"][0]["id"], {"amount": 150, "comment": "张三 \u2028 \"审批\""})
    raw, state = _stored(app, inst.json["id"])
    task_a = next(t for t in state["tasks"].values() if t["task_spec"] == "task_a")
    assert task_a["delta"]["updates"]["comment"] == "张三 \u2028 \"审批\""
    if db.engine().dialect.name == "postgresql":        # the json column keeps the text as the engine wrote it
        assert '"comment":"张三 \u2028 \\"审批\\""' in raw
    [task_b] = a["next_tasks"]
    assert _complete(doctor, task_b["id"], {"approved": True})["next_tasks"] == []
    assert doctor.get(f"/api/v1/process-instances/{inst.json['id']}").json["status"] == "completed"


def test_a_state_stored_in_the_former_form_loads_alike(login_as, approval, app):
    """States saved before issue 23.2's orjson text are `json.dumps` text (ASCII escapes, spaced separators)."""
    doctor = login_as("township_doctor", org="C01T01")
    inst = doctor.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01",
                                                           "data": {"名": "张三"}})
    assert inst.status_code == 201, inst.json
    _, state = _stored(app, inst.json["id"])
    with app.app_context():
        db.session().execute(text("UPDATE process_instances SET state = :s WHERE id = :i"),
                             {"s": json.dumps(state), "i": inst.json["id"]})
        db.session().commit()
    raw, again = _stored(app, inst.json["id"])
    assert repr(again) == repr(state)
    if db.engine().dialect.name == "postgresql":
        assert "\\u5f20" in raw and '"tasks": {' in raw
    a = _complete(doctor, inst.json["open_tasks"][0]["id"], {"amount": 150, "comment": "x"})
    [task_b] = a["next_tasks"]
    assert _complete(doctor, task_b["id"], {"approved": True})["next_tasks"] == []
