"""DMN deploy is gated (issue 14.3): conformance cases must pass, also for a `.dmn` uploaded alone (the DMN editor
deploys so), which keeps the cases of the version it replaces; a cell naming an unknown input is refused; the
refusal names the cell the editor highlights."""
from __future__ import annotations

import io

from tests.helpers import REPO

BP_GRADE = (REPO / "dmn" / "bp_grade.dmn").read_bytes()
BP_CASES = (REPO / "dmn" / "bp_grade.cases.json").read_bytes()


def _upload(api, files, url="/api/v1/process-definitions"):
    return api.post(url, data={"file": [(io.BytesIO(content), name) for name, content in files]},
                    content_type="multipart/form-data")


def _versions(api) -> int:
    return api.get("/api/v1/decisions/bp_grade").json["version"]


def _grade_3_from_100() -> bytes:
    broken = BP_GRADE.replace(b'id="bp_grade_r1_i1"><text>&gt;= 180', b'id="bp_grade_r1_i1"><text>&gt;= 100')
    broken = broken.replace(b'id="bp_grade_r2_i1"><text>&gt;= 180', b'id="bp_grade_r2_i1"><text>&gt;= 100')
    assert broken != BP_GRADE
    return broken


def test_a_dmn_uploaded_alone_is_checked_against_the_cases_of_the_version_it_replaces(login_as):
    owner = login_as("process_owner")
    assert _upload(owner, [("dmn/bp_grade.dmn", BP_GRADE), ("dmn/bp_grade.cases.json", BP_CASES)]).status_code == 201
    for url in ("/api/v1/process-definitions/validate", "/api/v1/process-definitions"):
        resp = _upload(owner, [("dmn/bp_grade.dmn", _grade_3_from_100())], url=url)
        assert resp.status_code == 422, resp.json
        details = resp.json["details"]
        assert (resp.json["code"], details["problem"], details["cases_source"]) == (
            "invalid_definition", "cases_failed", "version 1")
        assert details["failed"] > 0 and details["passed"] + details["failed"] == 26
        # the cell to highlight: the grade output of the rule that fired wrongly
        assert details["element_id"].startswith("bp_grade_r") and details["failures"][0]["diff"]
    assert _versions(owner) == 1


def test_an_upload_with_failing_cases_of_its_own_is_refused(login_as):
    owner = login_as("process_owner")
    resp = _upload(owner, [("dmn/bp_grade.dmn", _grade_3_from_100()), ("dmn/bp_grade.cases.json", BP_CASES)])
    assert (resp.status_code, resp.json["details"]["problem"], resp.json["details"]["cases_source"]) == (
        422, "cases_failed", "uploaded")
    assert owner.get("/api/v1/decisions/bp_grade").status_code == 404


def test_deploying_from_the_editor_keeps_the_cases_and_an_unchanged_table_makes_no_version(login_as):
    owner = login_as("process_owner")
    _upload(owner, [("dmn/bp_grade.dmn", BP_GRADE), ("dmn/bp_grade.cases.json", BP_CASES)])
    assert _upload(owner, [("bp_grade.dmn", BP_GRADE)]).json["decisions"] == [
        {"decision_id": "bp_grade", "version": 1, "changed": False}]
    edited = BP_GRADE.replace(b"</description>", b" (v2)</description>", 1)
    resp = _upload(owner, [("bp_grade.dmn", edited)])
    assert resp.json["decisions"] == [{"decision_id": "bp_grade", "version": 2, "changed": True}]
    assert owner.get("/api/v1/decisions/bp_grade").json["cases"] == 26
    # so the next broken upload is still checked (not vacuously against 0 cases)
    assert _upload(owner, [("bp_grade.dmn", _grade_3_from_100())]).json["details"]["cases_source"] == "version 2"


def test_a_cell_naming_an_unknown_input_is_refused_naming_the_cell(login_as):
    owner = login_as("process_owner")
    _upload(owner, [("dmn/bp_grade.dmn", BP_GRADE), ("dmn/bp_grade.cases.json", BP_CASES)])
    # what the editor made of `>= abc((`: it parses, and every later evaluation failed with missing_input abc
    closed = BP_GRADE.replace(b'id="bp_grade_r7_i1"><text>&gt;= 140', b'id="bp_grade_r7_i1"><text>&gt;= abc(())')
    resp = _upload(owner, [("bp_grade.dmn", closed)])
    assert resp.status_code == 422
    assert resp.json["details"]["element_id"] == "bp_grade_r7_i1"
    assert "abc" in resp.json["message"]
    assert owner.post("/api/v1/decisions/bp_grade/evaluate", json={"inputs": {"sbp": 150, "dbp": 95}}).status_code == 200
