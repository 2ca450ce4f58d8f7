"""Starting a process is authorized: the definition declares who may start it (`startRoles`) and whether it is about
one resident (`startResident`); a refused start answers 403/404/422 and writes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.workflows.models import HumanTask, ProcessEvent, ProcessInstance
from tests.helpers import REPO


@pytest.fixture()
def screening_deployed(app):
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        files = collect_folder_files(REPO, [REPO / "bpmn", REPO / "dmn", REPO / "forms"])
        deploy_files(files, deployed_by="test", source="folder")


def _rows(app) -> tuple[int, int, int]:
    with app.app_context():
        from app.core import db
        s = db.session()
        counts = tuple(s.execute(select(func.count()).select_from(t)).scalar_one()
                       for t in (ProcessInstance, HumanTask, ProcessEvent))
        s.rollback()
        return counts


def _start(api, process_id, **body):
    return api.post("/api/v1/process-instances", json={"process_id": process_id, **body})


def test_a_township_doctor_starts_a_process_for_a_resident_of_her_township(client_as, make_resident,
                                                                            deploy_models):
    deploy_models("approval.bpmn", with_dmn=False)
    resident = make_resident(org="C01T01V01")
    resp = _start(client_as("township_doctor", org="C01T01"), "approval", resident_id=resident["id"])
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["resident_id"] == resident["id"]


def test_a_resident_of_another_township_is_not_found_and_nothing_is_written(app, client_as, make_resident,
                                                                           screening_deployed):
    stranger = make_resident(org="C01T02V01", name="李四")
    before = _rows(app)
    resp = _start(client_as("village_doctor", org="C01T01V01"), "screening", resident_id=stranger["id"])
    assert resp.status_code == 404
    assert resp.get_json()["code"] == "not_found"
    assert _rows(app) == before


def test_the_resident_in_data_is_checked_like_the_body_field(app, client_as, make_resident, screening_deployed):
    stranger = make_resident(org="C01T02V01", name="李四")
    before = _rows(app)
    resp = _start(client_as("township_doctor", org="C01T01"), "screening", data={"resident_id": stranger["id"]})
    assert resp.status_code == 404
    assert _rows(app) == before


def test_a_patient_may_not_start_processes(app, client_as, make_user, make_resident, screening_deployed):
    own = make_resident(org="C01T01V01")
    patient = client_as(user=make_user("patient", org="C01T01V01", resident_id=own["id"]))
    before = _rows(app)
    for body in ({"resident_id": own["id"]}, {}):
        resp = _start(patient, "screening", **body)
        assert resp.status_code == 403, resp.get_json()
        assert resp.get_json()["code"] == "start_forbidden"
    assert _rows(app) == before


def test_a_trainer_may_not_start_clinical_processes(app, client_as, make_resident, screening_deployed):
    resident = make_resident()
    before = _rows(app)
    resp = _start(client_as("trainer"), "follow_up", resident_id=resident["id"])
    assert resp.status_code == 403
    assert resp.get_json()["details"]["allowed_roles"]
    assert _rows(app) == before


def test_a_process_owner_tests_models_with_synthetic_data_only(app, client_as, make_resident, deploy_models):
    deploy_models("approval.bpmn", with_dmn=False)
    resident = make_resident()
    owner = client_as("process_owner")
    before = _rows(app)
    refused = _start(owner, "approval", resident_id=resident["id"])
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "synthetic_data_only"
    assert _rows(app) == before
    assert _start(owner, "approval", data={"patient": "测试患者"}).status_code == 201


def test_a_resident_bound_process_needs_a_resident(app, client_as, screening_deployed):
    before = _rows(app)
    resp = _start(client_as("township_doctor", org="C01T01"), "screening")
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "resident_required"
    assert _rows(app) == before


def test_an_organization_outside_the_callers_scope_is_not_found(app, client_as, deploy_models):
    deploy_models("approval.bpmn", with_dmn=False)
    before = _rows(app)
    resp = _start(client_as("township_doctor", org="C01T01"), "approval", org_code="C01T02V01")
    assert resp.status_code == 404
    assert _rows(app) == before


def test_undeclared_processes_are_started_only_by_administrators(app, client_as, deploy_models):
    deploy_models("short_timer.bpmn", with_dmn=False)
    assert _start(client_as("township_doctor", org="C01T01"), "short_timer").status_code == 403
    assert _start(client_as("county_admin"), "short_timer").status_code == 201


def test_the_definition_lists_who_may_start_it(client_as, screening_deployed):
    body = client_as("township_doctor", org="C01T01").get("/api/v1/process-definitions/screening").get_json()
    assert body["start"]["resident"] == "required"
    assert "village_doctor" in body["start"]["roles"] and "patient" not in body["start"]["roles"]


def test_a_start_policy_naming_an_unknown_role_is_refused_at_deploy(client_as):
    xml = (REPO / "tests/fixtures/models/approval.bpmn").read_text().replace(
        "county_admin,process_owner,supervisor,township_doctor,village_doctor", "county_admin,chief_of_everything")
    resp = client_as("process_owner").post("/api/v1/process-definitions",
                                           data={"file": [(__import__("io").BytesIO(xml.encode()), "approval.bpmn")]},
                                           content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "chief_of_everything" in resp.get_json()["message"] + str(resp.get_json()["details"])


def test_a_refused_start_leaves_no_audit_trail_of_a_change(app, client_as, make_resident, screening_deployed):
    stranger = make_resident(org="C01T02V01", name="李四")
    with app.app_context():
        from app.core import db
        before = db.session().execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    _start(client_as("village_doctor", org="C01T01V01"), "screening", resident_id=stranger["id"])
    with app.app_context():
        after = db.session().execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action.like("instance.%"))).scalar_one()
    assert after == 0 and before >= 0
