"""Process instances through the API: start, status, history, diagram data, errors, actions, scope."""
from __future__ import annotations

from tests.fixtures.operators import LOOKUP_CALLS as CALLS


def _start(api, process_id="approval", **body):
    return api.post("/api/v1/process-instances", json={"process_id": process_id, **body})


def test_starting_an_instance_runs_it_until_it_waits(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    doctor = login_as("township_doctor", org="C01T01")
    resp = _start(doctor, org_code="C01T01V01", business_key="R-1", data={"source": "test"})
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert (body["status"], body["version"], body["business_key"]) == ("waiting", 1, "R-1")
    assert [t["element_id"] for t in body["open_tasks"]] == ["task_a"]
    assert body["diagram"]["active"] == ["task_a"]
    assert [e["type"] for e in body["history"]][:1] == ["instance_started"]


def test_starting_an_undeployed_process_is_404(login_as):
    assert _start(login_as("county_admin"), "nope").status_code == 404


def test_start_body_is_validated(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    resp = login_as("county_admin").post("/api/v1/process-instances", json={"data": []})
    assert resp.status_code == 422 and resp.json["code"] == "validation_error"
    fields = {e["field"] for e in resp.json["details"]["errors"]}
    assert {"process_id", "data"} <= fields


def test_instances_outside_the_callers_scope_are_not_found(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    admin = login_as("county_admin")
    inst = _start(admin, org_code="C01T01V01").json
    other = login_as("township_doctor", org="C01T02")
    assert other.get(f"/api/v1/process-instances/{inst['id']}").status_code == 404
    assert other.get("/api/v1/process-instances").json["total"] == 0
    mine = login_as("township_doctor", org="C01T01")
    assert mine.get(f"/api/v1/process-instances/{inst['id']}").status_code == 200


def test_list_filters_by_process_status_and_resident(login_as, deploy_models, make_resident):
    deploy_models("approval.bpmn", "approval")
    admin = login_as("county_admin")
    first, second = make_resident(name="甲"), make_resident(name="乙")
    _start(admin, org_code="C01T01V01", resident_id=first["id"])
    _start(admin, org_code="C01T01V01", resident_id=second["id"])
    assert admin.get(f"/api/v1/process-instances?resident_id={first['id']}").json["total"] == 1
    assert admin.get("/api/v1/process-instances?status=waiting&process_id=approval").json["total"] == 2
    assert admin.get("/api/v1/process-instances?status=completed").json["total"] == 0


def test_service_task_runs_through_its_handler_once(login_as, deploy_models):
    CALLS.clear()
    deploy_models("mechanisms.bpmn")
    admin = login_as("county_admin")
    inst = _start(admin, "mechanisms", org_code="C01T01", data={
        "sbp": 150, "dbp": 92, "divisor": 2, "resident_key": "R-7", "review_timeout": "PT1H"}).json
    detail = admin.get(f"/api/v1/process-instances/{inst['id']}").json
    assert [c["resident"] for c in CALLS] == ["R-7"]
    assert [t["element_id"] for t in detail["open_tasks"]] == ["child_note"]
    types = [e["type"] for e in detail["history"]]
    assert types.count("service_completed") == 1 and "decision_evaluated" in types


def test_a_business_failure_of_a_service_follows_the_error_boundary(login_as, deploy_models):
    deploy_models("mechanisms.bpmn")
    admin = login_as("county_admin")
    inst = _start(admin, "mechanisms", org_code="C01T01", data={
        "sbp": 150, "dbp": 92, "divisor": 2, "resident_key": "DOWN", "review_timeout": "PT1H"}).json
    detail = admin.get(f"/api/v1/process-instances/{inst['id']}").json
    assert detail["status"] == "completed"
    assert "end_failed" in detail["diagram"]["completed"]


def test_a_service_that_keeps_failing_raises_an_incident_that_can_be_retried(login_as, deploy_models):
    deploy_models("mechanisms.bpmn")
    admin = login_as("county_admin")
    inst = _start(admin, "mechanisms", org_code="C01T01", data={
        "sbp": 150, "dbp": 92, "divisor": 2, "resident_key": "BROKEN", "review_timeout": "PT1H"}).json
    detail = admin.get(f"/api/v1/process-instances/{inst['id']}").json
    assert detail["status"] == "error"
    assert detail["error"]["element_id"] == "lookup"
    assert "incident" in [e["type"] for e in detail["history"]]


def test_a_failing_script_shows_element_and_line_and_retries_after_a_fix(login_as, deploy_models):
    deploy_models("mechanisms.bpmn")
    admin = login_as("county_admin")
    inst = _start(admin, "mechanisms", org_code="C01T01", data={
        "sbp": 150, "dbp": 92, "divisor": 0, "resident_key": "R-1", "review_timeout": "PT1H"}).json
    assert inst["status"] == "error"
    assert (inst["error"]["element_id"], inst["error"]["line"]) == ("calc", 1)
    assert inst["diagram"]["error"] == ["calc"]
    retried = admin.post(f"/api/v1/process-instances/{inst['id']}/retry", json={"data": {"divisor": 4}})
    assert retried.status_code == 200, retried.json
    assert retried.json["status"] == "waiting" and retried.json["error"] is None, retried.json["error"]


def test_suspend_resume_and_terminate(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    supervisor = login_as("supervisor")
    inst = _start(supervisor, org_code="C01T01").json
    base = f"/api/v1/process-instances/{inst['id']}"
    assert supervisor.post(f"{base}/suspend").json["status"] == "suspended"
    assert supervisor.post(f"{base}/suspend").status_code == 409
    assert supervisor.post(f"{base}/resume").json["status"] == "waiting"
    done = supervisor.post(f"{base}/terminate", json={"reason": "重复建档"}).json
    assert done["status"] == "terminated" and done["open_tasks"] == []
    assert supervisor.post(f"{base}/resume").status_code == 409


def test_village_doctor_cannot_terminate(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    inst = _start(login_as("county_admin"), org_code="C01T01V01").json
    doctor = login_as("village_doctor", org="C01T01V01")
    assert doctor.post(f"/api/v1/process-instances/{inst['id']}/terminate").status_code == 403


def test_element_stats_count_where_tokens_wait(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    admin = login_as("county_admin")
    for _ in range(3):
        _start(admin, org_code="C01T01")
    stats = admin.get("/api/v1/process-definitions/approval/stats").json
    assert stats["elements"] == {"task_a": 3}


def test_an_instance_for_a_resident_defaults_to_the_residents_organization(login_as, deploy_models,
                                                                            make_resident):
    deploy_models("approval.bpmn", "approval")
    resident = make_resident(org="C01T01V01", name="李秀英")
    admin = login_as("county_admin")
    inst = _start(admin, resident_id=resident["id"]).json
    assert (inst["org_code"], inst["resident_name"]) == ("C01T01V01", "李秀英")
    [task] = inst["open_tasks"]
    doctor = login_as("township_doctor", org="C01T01")
    assert doctor.get(f"/api/v1/process-instances/{inst['id']}").status_code == 200
    listed = doctor.get(f"/api/v1/tasks?view=groups&resident_id={resident['id']}").json["items"]
    assert [t["id"] for t in listed] == [task["id"]]
    assert listed[0]["resident"]["name"] == "李秀英"
