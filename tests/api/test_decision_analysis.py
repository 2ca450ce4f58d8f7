"""Decision "run cases" off the request path (issue 13.8): process owners only, a job with a size and a time limit,
an id and a progress endpoint, and a per-user rate limit on the expensive decision endpoints."""
from __future__ import annotations

import io
import time

import pytest

from app.decisions import analyses
from app.jobs import queue
from tests.helpers import REPO

BP_GRADE = (REPO / "dmn" / "bp_grade.dmn").read_bytes()


def _draft(xml: bytes = BP_GRADE) -> dict:
    return {"data": {"file": (io.BytesIO(xml), "bp_grade.dmn")}, "content_type": "multipart/form-data"}


@pytest.fixture()
def models(deploy_models):
    deploy_models("approval.bpmn", "approval")


@pytest.mark.parametrize("role,org", [("patient", "C01T01V01"), ("village_doctor", "C01T01V01"),
                                      ("county_specialist", None), ("county_admin", None)])
def test_only_process_owners_may_analyse_a_draft(login_as, models, role, org):
    user = login_as(role, org=org)
    assert user.post("/api/v1/decisions/bp_grade/cases/run", **_draft()).status_code == 403
    assert user.post("/api/v1/decisions/bp_grade/cases/run").status_code == 403
    assert user.post("/api/v1/decisions/validate", **_draft()).status_code == 403
    assert user.post("/api/v1/decisions/bp_grade/evaluate-draft", **_draft()).status_code == 403


def test_a_case_run_answers_202_with_an_id_and_its_progress_endpoint_gives_the_result(login_as, models):
    owner = login_as("process_owner")
    resp = owner.post("/api/v1/decisions/bp_grade/cases/run", **_draft(BP_GRADE.replace(b'"G3"', b'"G2"')))
    assert resp.status_code == 202
    body = resp.json
    assert body["id"] and body["progress_url"] == f"/api/v1/decisions/analyses/{body['id']}"
    polled = owner.get(body["progress_url"]).json
    assert polled["status"] == "done" and polled["progress"] == 100 and polled["draft"] is True
    assert polled["result"]["failed"] > 0 and polled["result"]["decision_id"] == "bp_grade"
    assert "input" not in polled and "requested_by" not in polled
    other = login_as("process_owner")
    assert other.get(body["progress_url"]).status_code == 404      # only who asked reads it


def test_a_draft_with_a_definition_error_ends_failed_with_its_code(login_as, models):
    owner = login_as("process_owner")
    body = owner.post("/api/v1/decisions/bp_grade/cases/run", **_draft(b"<not-dmn")).json
    polled = owner.get(body["progress_url"]).json
    assert polled["status"] == "failed" and polled["error"]["code"] == "invalid_definition"


def test_a_draft_too_large_to_analyse_is_refused_with_422_before_anything_runs(login_as, models, monkeypatch):
    monkeypatch.setattr(analyses, "MAX_CELLS", 20)
    owner = login_as("process_owner")
    for path in ("/api/v1/decisions/bp_grade/cases/run", "/api/v1/decisions/bp_grade/evaluate-draft",
                 "/api/v1/decisions/validate"):
        resp = owner.post(path, **_draft())
        assert resp.status_code == 422 and resp.json["code"] == "draft_too_large", (path, resp.json)
        assert resp.json["details"]["cells"] > 20 and resp.json["details"]["max_cells"] == 20


def test_a_draft_with_too_many_rules_is_refused_whatever_its_inputs(login_as, models, monkeypatch):
    monkeypatch.setattr(analyses, "MAX_RULES", 5)
    resp = login_as("process_owner").post("/api/v1/decisions/bp_grade/cases/run", **_draft())
    assert resp.status_code == 422 and resp.json["code"] == "draft_too_large"
    assert resp.json["details"]["rules"] > 5 and resp.json["details"]["max_rules"] == 5


def test_an_analysis_over_its_time_limit_ends_failed_with_analysis_timeout(login_as, models, monkeypatch):
    monkeypatch.setattr(analyses, "TIME_LIMIT_S", -1.0)
    owner = login_as("process_owner")
    body = owner.post("/api/v1/decisions/bp_grade/cases/run").json
    polled = owner.get(body["progress_url"]).json
    assert polled["status"] == "failed" and polled["error"]["code"] == "analysis_timeout"


def test_each_user_is_rate_limited_on_the_expensive_decision_endpoints(login_as, models, monkeypatch):
    from app.auth import expensive
    monkeypatch.setenv("YGT_EXPENSIVE_BURST", "2")
    monkeypatch.setenv("YGT_EXPENSIVE_RATE", "0.001")
    expensive.reset()
    owner, other = login_as("process_owner"), login_as("process_owner")
    codes = [owner.post("/api/v1/decisions/bp_grade/cases/run").status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    refused = owner.post("/api/v1/decisions/validate", **_draft())
    assert refused.status_code == 429 and refused.json["code"] == "rate_limited"
    assert other.post("/api/v1/decisions/bp_grade/cases/run").status_code == 202   # per user


def test_in_the_embedded_server_the_run_is_a_background_job_the_request_does_not_wait_for(app, settings,
                                                                                        login_as, models):
    from app.config import Settings
    queue.configure(Settings.from_env(data_dir=str(settings.data_dir), database_url=settings.database_url,
                                      redis_url=None, jobs_mode="thread", scheduler_enabled=False), app)
    try:
        owner = login_as("process_owner")
        body = owner.post("/api/v1/decisions/bp_grade/cases/run").json
        assert body["status"] in ("queued", "running", "done")
        deadline = time.monotonic() + 30
        while owner.get(body["progress_url"]).json["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
        polled = owner.get(body["progress_url"]).json
        assert polled["status"] == "done" and polled["result"]["failed"] == 0
    finally:
        queue.drain()
        queue.configure(settings)


def test_a_deploy_or_dry_run_of_a_table_too_large_to_analyse_is_refused(login_as, models, monkeypatch):
    monkeypatch.setattr(analyses, "MAX_RULES", 5)
    owner = login_as("process_owner")
    for path in ("/api/v1/process-definitions", "/api/v1/process-definitions/validate"):
        resp = owner.post(path, **_draft())
        assert resp.status_code == 422 and resp.json["code"] == "draft_too_large", (path, resp.json)
    assert owner.get("/api/v1/decisions/bp_grade").json["version"] == 1     # nothing deployed
