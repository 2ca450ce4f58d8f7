"""Who holds a task: claim (atomic: of two claims one wins), unclaim, assign by a lead, delegate and return; every
change bumps the etag and is written to the instance history and the audit log."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core import db


@pytest.fixture()
def approval(deploy_models):
    deploy_models("approval.bpmn", "approval")


def start_task(api, org="C01T01V01"):
    inst = api.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": org}).json
    return next(t for t in api.get("/api/v1/tasks?view=org").json["items"] if t["instance_id"] == inst["id"])


def history(api, task):
    return [e["type"] for e in api.get(f"/api/v1/process-instances/{task['instance_id']}").json["history"]]


def test_of_two_claims_the_first_wins_and_the_second_gets_409(login_as, approval):
    first, second = login_as("township_doctor", org="C01T01"), login_as("township_doctor", org="C01T01")
    task = start_task(first)
    won = first.post(f"/api/v1/tasks/{task['id']}/claim")
    lost = second.post(f"/api/v1/tasks/{task['id']}/claim")
    assert won.status_code == 200 and won.json["assignee"]["username"] == first.user.username
    assert won.json["etag"] != task["etag"]
    assert lost.status_code == 409 and lost.json["code"] == "task_already_claimed"
    assert first.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200     # claiming one's own task again
    assert history(first, task).count("task_claimed") == 1


def test_claim_writes_an_audit_entry(app, login_as, approval):
    doctor = login_as("township_doctor", org="C01T01")
    task = start_task(doctor)
    doctor.post(f"/api/v1/tasks/{task['id']}/claim")
    with app.app_context():
        actions = db.session().scalars(select(AuditEntry.action).where(AuditEntry.object_type == "task",
                                                                       AuditEntry.object_id == str(task["id"]))).all()
    assert "task.claim" in actions


def test_only_the_assignee_unclaims_and_the_task_returns_to_the_group(login_as, approval):
    doctor, colleague = login_as("township_doctor", org="C01T01"), login_as("township_doctor", org="C01T01")
    task = start_task(doctor)
    doctor.post(f"/api/v1/tasks/{task['id']}/claim")
    assert colleague.post(f"/api/v1/tasks/{task['id']}/unclaim").json["code"] == "not_assignee"
    resp = doctor.post(f"/api/v1/tasks/{task['id']}/unclaim")
    assert resp.status_code == 200 and resp.json["assignee"] is None
    assert colleague.get("/api/v1/tasks?view=groups").json["total"] == 1
    assert "task_unclaimed" in history(doctor, task)


def test_a_lead_assigns_to_a_candidate_only(login_as, approval):
    lead = login_as("county_admin")
    doctor = login_as("township_doctor", org="C01T01")
    outsider = login_as("township_doctor", org="C01T02")
    task = start_task(lead)
    resp = lead.post(f"/api/v1/tasks/{task['id']}/assign", json={"user_id": doctor.user.id})
    assert resp.status_code == 200 and resp.json["assignee"]["id"] == doctor.user.id
    assert [t["id"] for t in doctor.get("/api/v1/tasks?view=mine").json["items"]] == [task["id"]]
    bad = lead.post(f"/api/v1/tasks/{task['id']}/assign", json={"username": outsider.user.username})
    assert bad.status_code == 422 and bad.json["code"] == "invalid_assignee"
    assert lead.post(f"/api/v1/tasks/{task['id']}/assign", json={}).status_code == 422
    assert "task_assigned" in history(lead, task)


def test_a_village_doctor_is_not_a_lead(login_as, approval):
    village = login_as("village_doctor", org="C01T01V01")
    doctor = login_as("township_doctor", org="C01T01")
    task = start_task(doctor)
    resp = village.post(f"/api/v1/tasks/{task['id']}/assign", json={"user_id": doctor.user.id})
    assert resp.status_code == 403 and resp.json["code"] == "not_a_candidate"


def test_delegate_and_return(login_as, approval):
    doctor = login_as("township_doctor", org="C01T01")
    helper = login_as("township_public_health", org="C01T01")
    task = start_task(doctor)
    doctor.post(f"/api/v1/tasks/{task['id']}/claim")
    resp = doctor.post(f"/api/v1/tasks/{task['id']}/delegate", json={"to_username": helper.user.username})
    assert resp.status_code == 200 and resp.json["assignee"]["username"] == helper.user.username
    detail = helper.get(f"/api/v1/tasks/{task['id']}").json
    assert detail["delegated_from"]["username"] == doctor.user.username
    assert detail["can"]["return"] is True and detail["can"]["complete"] is True
    assert doctor.post(f"/api/v1/tasks/{task['id']}/return").json["code"] == "not_assignee"
    back = helper.post(f"/api/v1/tasks/{task['id']}/return")
    assert back.status_code == 200 and back.json["assignee"]["username"] == doctor.user.username
    assert doctor.get(f"/api/v1/tasks/{task['id']}").json["delegated_from"] is None
    assert {"task_delegated", "task_returned"} <= set(history(doctor, task))


def test_a_delegate_completes_the_task(login_as, approval):
    doctor = login_as("township_doctor", org="C01T01")
    helper = login_as("township_public_health", org="C01T01")
    task = start_task(doctor)
    doctor.post(f"/api/v1/tasks/{task['id']}/claim")
    doctor.post(f"/api/v1/tasks/{task['id']}/delegate", json={"user_id": helper.user.id})
    resp = helper.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"amount": 1}})
    assert resp.status_code == 200 and resp.json["completed_by"] == helper.user.username


def test_only_the_assignee_delegates_and_only_to_someone_in_scope(login_as, approval):
    doctor, village = login_as("township_doctor", org="C01T01"), login_as("village_doctor", org="C01T01V01")
    outsider = login_as("village_doctor", org="C01T02V01")
    task = start_task(doctor)
    doctor.post(f"/api/v1/tasks/{task['id']}/claim")
    assert village.post(f"/api/v1/tasks/{task['id']}/delegate",
                        json={"user_id": village.user.id}).json["code"] == "not_assignee"
    resp = doctor.post(f"/api/v1/tasks/{task['id']}/delegate", json={"user_id": outsider.user.id})
    assert resp.status_code == 422 and resp.json["code"] == "invalid_assignee"
    assert doctor.post(f"/api/v1/tasks/{task['id']}/delegate",
                       json={"user_id": doctor.user.id}).json["code"] == "invalid_assignee"


def test_holder_changes_on_a_completed_task_are_conflicts(login_as, approval):
    doctor = login_as("township_doctor", org="C01T01")
    task = start_task(doctor)
    doctor.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"amount": 1}})
    for action in ("claim", "unclaim", "return"):
        resp = doctor.post(f"/api/v1/tasks/{task['id']}/{action}")
        assert resp.status_code == 409 and resp.json["code"] == "task_already_completed", action
