"""Deploying definitions through the API: versions by content hash, clear refusals, nothing half-stored."""
from __future__ import annotations

import io

from tests.helpers import model_files

BROKEN_XML = b"<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'><bpmn:process"


def _upload(api, files):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    return api.post("/api/v1/process-definitions", data=data, content_type="multipart/form-data")


def test_process_owner_deploys_a_model_with_its_forms(login_as):
    owner = login_as("process_owner")
    resp = _upload(owner, model_files("approval.bpmn", "approval"))
    assert resp.status_code == 201, resp.json
    assert resp.json["deployed"] == [{"process_id": "approval", "version": 1, "changed": True}]
    listing = owner.get("/api/v1/process-definitions").json
    assert [d["process_id"] for d in listing["items"]] == ["approval"]


def test_unchanged_files_make_no_new_version(login_as):
    owner = login_as("process_owner")
    _upload(owner, model_files("approval.bpmn", "approval"))
    again = _upload(owner, model_files("approval.bpmn", "approval"))
    assert again.json["deployed"] == [{"process_id": "approval", "version": 1, "changed": False}]


def test_a_changed_model_becomes_version_two_and_running_instances_keep_version_one(login_as):
    owner = login_as("process_owner")
    _upload(owner, model_files("approval.bpmn", "approval"))
    first = owner.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"}).json
    changed = [(n, c.replace("填写金额".encode(), "填写申请金额".encode())) for n, c in model_files("approval.bpmn")]
    resp = _upload(owner, changed + model_files("approval"))
    assert resp.json["deployed"][0]["version"] == 2
    assert owner.get(f"/api/v1/process-instances/{first['id']}").json["version"] == 1
    second = owner.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": "C01T01"}).json
    assert second["version"] == 2


def test_malformed_bpmn_is_refused_with_the_file_and_nothing_is_stored(login_as):
    owner = login_as("process_owner")
    resp = _upload(owner, [("broken.bpmn", BROKEN_XML)] + model_files("approval.bpmn", "approval"))
    assert resp.status_code == 422
    assert resp.json["code"] == "invalid_definition"
    assert resp.json["details"]["file"] == "broken.bpmn"
    assert owner.get("/api/v1/process-definitions").json["total"] == 0


def test_unknown_element_reference_is_refused_naming_the_element(login_as):
    owner = login_as("process_owner")
    [(name, content)] = model_files("approval.bpmn")
    bad = content.replace(b'targetRef="task_b"', b'targetRef="no_such_task"')
    resp = _upload(owner, [(name, bad)] + model_files("approval"))
    assert resp.status_code == 422
    assert resp.json["details"]["file"] == "approval.bpmn"
    assert resp.json["details"].get("element_id")


def test_dmn_with_a_bad_expression_is_refused_naming_the_cell(login_as):
    owner = login_as("process_owner")
    dmn = (b'<?xml version="1.0"?><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" '
           b'name="d" namespace="x"><decision id="bad_table" name="bad"><decisionTable id="bad_table_t" '
           b'hitPolicy="FIRST"><input id="i1" label="x"><inputExpression id="ie1" typeRef="number"><text>x</text>'
           b'</inputExpression></input><output id="o1" name="y" typeRef="string"/><rule id="r1"><inputEntry '
           b'id="r1_i1"><text>&gt;= (</text></inputEntry><outputEntry id="r1_o1"><text>"a"</text></outputEntry>'
           b'</rule></decisionTable></decision></definitions>')
    resp = _upload(owner, [("bad_table.dmn", dmn)])
    assert resp.status_code == 422
    assert resp.json["details"]["element_id"] == "r1_i1"
    assert owner.get("/api/v1/decisions").json["total"] == 0


def test_deploy_needs_a_process_owner(login_as):
    doctor = login_as("village_doctor", org="C01T01V01")
    assert _upload(doctor, model_files("approval.bpmn", "approval")).status_code == 403


def test_the_bpmn_xml_of_a_version_can_be_downloaded(login_as):
    owner = login_as("process_owner")
    _upload(owner, model_files("approval.bpmn", "approval"))
    resp = owner.get("/api/v1/process-definitions/approval/versions/1/xml")
    assert resp.status_code == 200 and b'id="approval"' in resp.data
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="approval.bpmn"')


def test_a_model_written_for_spiffarena_imports_as_it_is(login_as):
    owner = login_as("process_owner")
    bpmn = model_files("approval.bpmn")[0][1].replace(
        b'<bpmn:userTask id="task_b" name="\xe5\xae\xa1\xe6\x89\xb9">',
        b'<bpmn:userTask id="task_b" name="\xe5\xae\xa1\xe6\x89\xb9"><bpmn:extensionElements><spiffworkflow:properties>'
        b'<spiffworkflow:property name="formJsonSchemaFilename" value="approve-schema.json"/>'
        b'<spiffworkflow:property name="formUiSchemaFilename" value="approve-uischema.json"/>'
        b'</spiffworkflow:properties></bpmn:extensionElements>')
    files = [("approval.bpmn", bpmn), ("approval/task_a.json", model_files("approval")[0][1]),
             ("approve-schema.json", b'{"type":"object","properties":{"approved":{"type":"boolean"}}}'),
             ("approve-uischema.json", b'{"approved":{"ui:widget":"radio"}}')]
    resp = _upload(owner, files)
    assert resp.status_code == 201, resp.json
    forms = owner.get("/api/v1/process-definitions/approval/versions/1/forms").json
    assert forms["approval/task_b"]["ui_schema"] == {"approved": {"ui:widget": "radio"}}


def test_validate_checks_files_without_storing_them(login_as):
    owner = login_as("process_owner")
    data = {"file": [(io.BytesIO(c), n) for n, c in model_files("approval.bpmn", "approval")]}
    resp = owner.post("/api/v1/process-definitions/validate", data=data, content_type="multipart/form-data")
    assert resp.status_code == 200 and resp.json["processes"] == ["approval"]
    assert owner.get("/api/v1/process-definitions").json["total"] == 0
    bad = {"file": [(io.BytesIO(BROKEN_XML), "broken.bpmn")]}
    resp = owner.post("/api/v1/process-definitions/validate", data=bad, content_type="multipart/form-data")
    assert resp.status_code == 422 and resp.json["details"]["file"] == "broken.bpmn"


def test_form_schemas_keep_their_authored_property_order(login_as):
    owner = login_as("process_owner")
    _upload(owner, model_files("approval.bpmn", "approval"))
    forms = owner.get("/api/v1/process-definitions/approval/versions/1/forms").json
    assert list(forms["approval/task_a"]["schema"]["properties"]) == ["comment", "amount"]  # not alphabetical
