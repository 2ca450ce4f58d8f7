"""The engine path's answers (start, task list, completions) are dumped by compiled plans (app.core.dumps): every
value they dumped through the API equals what marshmallow's own dump of the same schema makes of it."""
from __future__ import annotations

import json
import uuid

import pytest

from app.core import dumps


@pytest.fixture()
def compared(monkeypatch):
    """Wrap every compiled schema's dump: marshmallow dumps the same value too, and the two are kept."""
    seen: list[tuple[str, str, str]] = []
    for schema in dumps.COMPILED:
        plan = schema.dump
        reference = type(schema)(many=schema.many)

        def dump(obj, *, many=None, plan=plan, reference=reference):
            out = plan(obj, many=many)
            seen.append((type(reference).__name__, json.dumps(out, default=str, ensure_ascii=False),
                         json.dumps(reference.dump(obj, many=many), default=str, ensure_ascii=False)))
            return out
        monkeypatch.setattr(schema, "dump", dump)
    return seen


def test_the_engine_paths_answers_are_marshmallows(login_as, deploy_models, compared):
    deploy_models("approval.bpmn", "approval")
    doctor = login_as("township_doctor", org="C01T01")
    inst = doctor.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"})
    assert inst.status_code == 201, inst.json
    listed = doctor.get("/api/v1/tasks?view=groups&process_id=approval&per_page=1&sort=created")
    assert listed.status_code == 200 and listed.json["items"], listed.json
    a = doctor.post(f"/api/v1/tasks/{inst.json['open_tasks'][0]['id']}/complete",
                    json={"data": {"amount": 150, "comment": "x"}, "completion_id": str(uuid.uuid4())})
    assert a.status_code == 200, a.json
    b = doctor.post(f"/api/v1/tasks/{a.json['next_tasks'][0]['id']}/complete",
                    json={"data": {"approved": True}, "completion_id": str(uuid.uuid4())})
    assert b.status_code == 200 and b.json["next_tasks"] == [], b.json
    mine = doctor.get("/api/v1/tasks?view=org&status=completed")
    assert mine.status_code == 200 and mine.json["total"] >= 2
    assert {name for name, _, _ in compared} == {"InstanceDetailSchema", "TaskListSchema", "CompletedTaskSchema"}
    for name, out, reference in compared:
        assert out == reference, name
    # and what went over the wire is what was dumped
    assert json.loads(compared[-1][1]) == mine.json
