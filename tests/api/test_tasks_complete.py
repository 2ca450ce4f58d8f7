"""Completing a task: server-side form validation with Chinese messages, the engine step, chaining to the next
task, idempotent replay by completion_id, and stale views answered with typed 409s."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.core import db
from app.workflows.models import ProcessEvent
from tests.helpers import move_to_changed_approval_form


@pytest.fixture()
def approval(deploy_models):
    deploy_models("approval.bpmn", "approval")


@pytest.fixture()
def doctor(login_as):
    return login_as("township_doctor", org="C01T01")


def start_task(api):
    inst = api.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01V01"}).json
    task = next(t for t in api.get("/api/v1/tasks?view=groups").json["items"] if t["instance_id"] == inst["id"])
    return api.get(f"/api/v1/tasks/{task['id']}").json


def complete(api, task, data, **kw):
    headers = {"If-Match": kw.pop("etag")} if "etag" in kw else {}
    return api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data, **kw}, headers=headers)


def test_invalid_data_is_answered_with_chinese_messages_per_field(doctor, approval):
    task = start_task(doctor)
    resp = complete(doctor, task, {"amount": -5, "comment": "长" * 201})
    assert resp.status_code == 422 and resp.json["code"] == "form_invalid"
    assert resp.json["details"]["errors"] == [{"field": "amount", "message": "金额不能小于 0"},
                                              {"field": "comment", "message": "备注最多 200 个字符"}]
    missing = complete(doctor, task, {})
    assert missing.json["details"]["errors"] == [{"field": "amount", "message": "金额为必填项"}]
    as_text = complete(doctor, task, {"amount": "100"})                    # nothing is coerced
    assert as_text.json["details"]["errors"] == [{"field": "amount", "message": "金额应为数字"}]


def test_invalid_data_changes_nothing(doctor, approval):
    task = start_task(doctor)
    complete(doctor, task, {"amount": "x"})
    after = doctor.get(f"/api/v1/tasks/{task['id']}").json
    assert after["status"] == "open" and after["assignee"] is None and after["etag"] == task["etag"]


def test_a_valid_completion_advances_the_instance_and_chains_to_the_next_task(doctor, approval):
    task = start_task(doctor)
    resp = complete(doctor, task, {"amount": 500}, etag=task["etag"])
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["status"] == "completed" and body["completed_by"] == doctor.user.username
    assert body["assignee"]["username"] == doctor.user.username        # a candidate completing claims implicitly
    assert [t["element_id"] for t in body["next_tasks"]] == ["task_b"]
    groups = doctor.get("/api/v1/tasks?view=groups").json["items"]
    assert [t["element_id"] for t in groups] == ["task_b"]
    history = [e["type"] for e in doctor.get(f"/api/v1/process-instances/{task['instance_id']}").json["history"]]
    assert history.count("task_claimed") == 1 and history.count("task_completed") == 1


def test_the_claim_of_a_completion_is_written_first_with_the_steps_history_and_builds_no_orm_event(app, doctor,
                                                                                                   approval):
    """Issue 23.2: the claim's history event is a row written first in the step's history INSERT (as when it was an
    ORM object taken out of the session): the same columns, the step's events after it; no ProcessEvent object is
    built for it. A completion of a task the caller holds writes no claim."""
    from sqlalchemy import event

    built: list[str] = []

    def made(target, _args, _kwargs) -> None:
        built.append(target.type)
    task = start_task(doctor)
    event.listen(ProcessEvent, "init", made)
    try:
        assert complete(doctor, task, {"amount": 500}, etag=task["etag"]).status_code == 200
    finally:
        event.remove(ProcessEvent, "init", made)
    assert built == []
    with app.app_context():
        rows = db.session().execute(select(ProcessEvent.type, ProcessEvent.element_id, ProcessEvent.task_guid,
                                           ProcessEvent.actor, ProcessEvent.data, ProcessEvent.at)
                                    .where(ProcessEvent.instance_id == task["instance_id"])
                                    .order_by(ProcessEvent.id)).all()
        guid = db.session().scalar(select(func.min(ProcessEvent.task_guid)).where(
            ProcessEvent.instance_id == task["instance_id"], ProcessEvent.element_id == task["element_id"]))
    types = [r.type for r in rows]
    claimed = types.index("task_claimed")
    assert types[claimed + 1] == "task_completed" and types.count("task_claimed") == 1
    claim = rows[claimed]
    assert (claim.element_id, claim.task_guid, claim.actor, claim.data) == (task["element_id"], guid,
                                                                            doctor.user.username, {})
    assert claim.at <= rows[claimed + 1].at
    following = next(t for t in doctor.get("/api/v1/tasks?view=groups").json["items"]
                     if t["instance_id"] == task["instance_id"])
    following = doctor.get(f"/api/v1/tasks/{following['id']}").json
    assert doctor.post(f"/api/v1/tasks/{following['id']}/claim").status_code == 200
    assert complete(doctor, following, {"approved": True}).status_code == 200
    history = [e["type"] for e in doctor.get(f"/api/v1/process-instances/{task['instance_id']}").json["history"]]
    assert history.count("task_claimed") == 2


def test_the_same_completion_id_is_answered_as_the_first_and_acts_once(app, doctor, approval):
    task = start_task(doctor)
    cid = str(uuid.uuid4())
    first = complete(doctor, task, {"amount": 500}, completion_id=cid, etag=task["etag"])
    again = complete(doctor, task, {"amount": 500}, completion_id=cid, etag=task["etag"])
    assert first.status_code == again.status_code == 200
    assert again.json == first.json
    with app.app_context():
        events = db.session().scalar(select(func.count()).select_from(ProcessEvent).where(
            ProcessEvent.instance_id == task["instance_id"], ProcessEvent.type == "task_completed"))
    assert events == 1


def test_a_second_completion_without_the_id_is_a_conflict(doctor, approval):
    task = start_task(doctor)
    complete(doctor, task, {"amount": 5}, completion_id=str(uuid.uuid4()))
    resp = complete(doctor, task, {"amount": 5}, completion_id=str(uuid.uuid4()))
    assert resp.status_code == 409 and resp.json["code"] == "task_already_completed"


def test_a_completion_id_reused_for_another_task_is_a_conflict(doctor, approval):
    first, second = start_task(doctor), start_task(doctor)
    cid = str(uuid.uuid4())
    complete(doctor, first, {"amount": 5}, completion_id=cid)
    resp = complete(doctor, second, {"amount": 5}, completion_id=cid)
    assert resp.status_code == 409 and resp.json["code"] == "completion_id_reused"
    assert complete(doctor, second, {"amount": 5}, completion_id="not-a-uuid").status_code == 422


def test_a_stale_if_match_after_a_reassignment_is_task_reassigned(login_as, doctor, approval):
    task = start_task(doctor)
    doctor.post(f"/api/v1/tasks/{task['id']}/claim")
    doctor.post(f"/api/v1/tasks/{task['id']}/unclaim")
    resp = complete(doctor, task, {"amount": 5}, etag=task["etag"])
    assert resp.status_code == 409 and resp.json["code"] == "task_reassigned"
    fresh = doctor.get(f"/api/v1/tasks/{task['id']}").json["etag"]
    assert resp.json["details"]["etag"] == fresh
    assert complete(doctor, task, {"amount": 5}, etag=fresh).status_code == 200


def test_the_list_etag_is_accepted_too(doctor, approval):
    task = start_task(doctor)
    listed = doctor.get("/api/v1/tasks?view=groups").json["items"][0]
    assert complete(doctor, task, {"amount": 5}, etag=listed["etag"]).status_code == 200


def test_a_stale_if_match_on_a_completed_task_is_task_already_completed(doctor, approval):
    task = start_task(doctor)
    complete(doctor, task, {"amount": 5})
    resp = complete(doctor, task, {"amount": 5}, etag=task["etag"])
    assert resp.status_code == 409 and resp.json["code"] == "task_already_completed"


def test_a_task_assigned_to_someone_else_cannot_be_completed(login_as, doctor, approval):
    task = start_task(doctor)
    colleague = login_as("township_doctor", org="C01T01")
    colleague.post(f"/api/v1/tasks/{task['id']}/claim")
    resp = complete(doctor, task, {"amount": 5})
    assert resp.status_code == 409 and resp.json["code"] == "task_reassigned"
    viewer = login_as("village_doctor", org="C01T01V01")
    other = start_task(doctor)
    assert complete(viewer, other, {"amount": 5}).json["code"] == "not_a_candidate"


def test_a_changed_form_definition_is_definition_changed(app, doctor, approval):
    task = start_task(doctor)
    move_to_changed_approval_form(app, task["instance_id"])
    resp = complete(doctor, task, {"amount": 5}, etag=task["etag"])
    assert resp.status_code == 409 and resp.json["code"] == "definition_changed"
    fresh = doctor.get(f"/api/v1/tasks/{task['id']}").json
    assert fresh["form"]["schema"]["properties"]["amount"]["maximum"] == 1000
    assert complete(doctor, fresh, {"amount": 5000}, etag=fresh["etag"]).json["details"]["errors"] == [
        {"field": "amount", "message": "金额不能大于 1000"}]


@pytest.mark.parametrize("claimed_first", [False, True])
def test_the_completed_row_is_stored_as_answered(doctor, approval, app, claimed_first):
    """The completion's values (set on the loaded row without attribute events) and a claim's (tracked) are both
    written by the completion's one UPDATE; the row's version counts each change."""
    from app.workflows.models import HumanTask
    task = start_task(doctor)
    version = int(task["etag"].strip('"').split("-")[1].split(".")[0])
    if claimed_first:
        assert doctor.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    completion_id = str(uuid.uuid4())
    body = complete(doctor, task, {"amount": 500}, completion_id=completion_id).json
    with app.app_context(), db.unit_of_work() as s:
        row = s.get(HumanTask, task["id"])
        s.refresh(row)
        assert (row.status, row.completed_by, row.completion_id, row.assignee_id, row.etag_version) == \
            ("completed", doctor.user.username, completion_id, doctor.user.id, version + 2)
        assert row.completed_at.isoformat() == body["completed_at"] and body["etag"] == f'"{row.id}-{version + 2}"'
