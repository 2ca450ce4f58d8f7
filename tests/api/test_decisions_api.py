"""The decision API: listing with provenance, evaluation with trace, clear 422s, versions, cases, and the
guarantee that a business-rule task and the API give the same answer."""
from __future__ import annotations

import io

from sqlalchemy import select

from app.core.db import session
from app.workflows import runner
from app.workflows.models import ProcessEvent
from tests.helpers import REPO

BP_GRADE = (REPO / "dmn" / "bp_grade.dmn").read_bytes()


def test_decisions_are_listed_with_version_source_and_edition(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    items = {d["decision_id"]: d for d in login_as("village_doctor", org="C01T01V01").get(
        "/api/v1/decisions").json["items"]}
    assert {"bp_grade", "htn_cv_risk", "ckd_stage", "warfarin_inr", "rivaroxaban_dose"} <= set(items)
    grade = items["bp_grade"]
    assert grade["version"] == 1 and grade["table"] == "T01" and grade["source"] and grade["edition"]


def test_the_dmn_xml_downloads_with_its_file_name(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    resp = login_as("process_owner").get("/api/v1/decisions/bp_grade/xml")
    assert resp.status_code == 200 and b"bp_grade" in resp.data
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="bp_grade.dmn"')


def test_evaluation_returns_outputs_trace_and_the_deciding_versions(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    api = login_as("township_doctor", org="C01T01")
    resp = api.post("/api/v1/decisions/htn_cv_risk/evaluate", json={"inputs": {
        "sex": "M", "age": 60, "sbp": 165, "dbp": 95, "smoking": True, "hdl": 0.9, "tc": 4.0, "ldl": 2.0}})
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["outputs"]["risk_resolved"] in ("HIGH", "VERY_HIGH")
    assert body["trace"] and all(step["rules"] for step in body["trace"] if step.get("rules") is not None)
    assert body["reason"]
    assert body["versions"]["htn_cv_risk"] == 1 and "bp_grade" in body["versions"]


def test_a_missing_input_is_422_naming_the_field(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    resp = login_as("county_admin").post("/api/v1/decisions/bp_grade/evaluate", json={"inputs": {"sbp": 150}})
    assert resp.status_code == 422
    assert (resp.json["code"], resp.json["details"]["field"]) == ("missing_input", "dbp")


def test_an_out_of_range_input_is_422_naming_the_field(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    resp = login_as("county_admin").post("/api/v1/decisions/bp_grade/evaluate",
                                         json={"inputs": {"sbp": 900, "dbp": 80}})
    assert resp.status_code == 422
    assert (resp.json["code"], resp.json["details"]["field"]) == ("invalid_input", "sbp")


def test_a_process_and_the_api_give_the_same_outputs_and_trace(app, login_as, deploy_models):
    import tests.fixtures.operators  # noqa: F401  (the mechanisms model's service operator)
    deploy_models("mechanisms.bpmn")
    inputs = {"sbp": 172, "dbp": 104}
    with app.app_context():
        inst = runner.start_instance("mechanisms", actor=runner.Actor("t"), data={
            **inputs, "divisor": 2, "resident_key": "R-1", "review_timeout": "PT1H"})
        [event] = session().execute(select(ProcessEvent).where(
            ProcessEvent.instance_id == inst.id, ProcessEvent.type == "decision_evaluated")).scalars()
    api = login_as("county_admin").post("/api/v1/decisions/bp_grade/evaluate", json={"inputs": inputs}).json
    assert event.data["outputs"] == api["outputs"]
    assert event.data["trace"] == api["trace"]
    assert event.data["versions"] == api["versions"]
    assert event.data["inputs"] == inputs          # traced for draft replays (14.14): the decision's inputs only


def test_a_changed_table_deploys_as_a_new_version_and_running_instances_keep_theirs(app, login_as, deploy_models):
    import tests.fixtures.operators  # noqa: F401
    deploy_models("mechanisms.bpmn")
    with app.app_context():
        inst = runner.start_instance("mechanisms", actor=runner.Actor("t"), data={
            "sbp": 150, "dbp": 90, "divisor": 0, "resident_key": "R-1", "review_timeout": "PT1H"})
    owner = login_as("process_owner")
    changed = BP_GRADE.replace(b"T01", b"T01", 1).replace(b"</description>", b" (v2)</description>", 1)
    resp = owner.post("/api/v1/process-definitions", data={"file": [(io.BytesIO(changed), "bp_grade.dmn")]},
                      content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    assert resp.json["decisions"] == [{"decision_id": "bp_grade", "version": 2, "changed": True}]
    detail = owner.get(f"/api/v1/process-instances/{inst.id}").json
    assert detail["decision_versions"]["bp_grade"] == 1
    assert owner.get("/api/v1/decisions/bp_grade").json["version"] == 2


def test_conformance_cases_run_on_the_deployed_table_and_on_a_draft(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    owner = login_as("process_owner")
    deployed = owner.post("/api/v1/decisions/bp_grade/cases/run").json["result"]
    assert deployed["failed"] == 0 and deployed["passed"] > 10
    broken = BP_GRADE.replace(b'"G3"', b'"G2"')
    draft = owner.post("/api/v1/decisions/bp_grade/cases/run", data={"file": (io.BytesIO(broken), "bp_grade.dmn")},
                       content_type="multipart/form-data").json["result"]
    assert draft["failed"] > 0
    assert any(r["diff"] for r in draft["results"] if not r["passed"] and "diff" in r)


def test_a_draft_with_an_overlap_is_refused_before_deploying(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval")
    owner = login_as("process_owner")
    ckd = (REPO / "dmn" / "ckd_g_stage.dmn").read_bytes()
    assert b"<text>[60..90)</text>" in ckd
    overlapping = ckd.replace(b"<text>[60..90)</text>", b"<text>[60..91)</text>")   # G2 now overlaps G1 at 90
    resp = owner.post("/api/v1/decisions/validate", data={"file": (io.BytesIO(overlapping), "ckd_g_stage.dmn")},
                      content_type="multipart/form-data")
    assert resp.status_code == 422 and resp.json["code"] == "invalid_definition"
    assert "90" in resp.json["message"]
