"""The malformed-input corpus: each input gets a clear 4xx with a stable code (never a 500) and writes nothing."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.integrations.models import InboundEvent
from app.residents.models import Resident
from app.workflows.models import ProcessInstance, ProcessVersion
from tests.helpers import REPO

DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"process_id": "approval", "data": ' + '{"a":' * 5_000 + "1" + "}" * 5_000 + "}"
WANG = "330127195603142337"

# (name, method, path, kwargs, status, code)
CORPUS = [
    ("nul in residents q", "get", "/api/v1/residents?q=%00", {}, 422, "validation_error"),
    ("nul in tasks q", "get", "/api/v1/tasks?q=a%00b", {}, 422, "validation_error"),
    ("nul in a business key filter", "get", "/api/v1/process-instances?business_key=%00", {}, 422,
     "validation_error"),
    ("nul in screening q", "get", "/api/v1/screening/cases?q=%00", {}, 422, "validation_error"),
    ("nul in a FHIR search", "get", "/fhir/Patient?identifier=%00", {}, 422, None),
    ("nul inside start data", "post", "/api/v1/process-instances",
     {"json": {"process_id": "approval", "data": {"note": "a\x00b"}}}, 422, "validation_error"),
    ("deeply nested array", "post", "/api/v1/residents",
     {"data": DEEP_ARRAY, "content_type": "application/json"}, 400, "json_too_deep"),
    ("deeply nested start data", "post", "/api/v1/process-instances",
     {"data": DEEP_OBJECT, "content_type": "application/json"}, 400, "json_too_deep"),
    ("superscript digit in an ID number", "post", "/api/v1/residents",
     {"json": {"id_number": WANG[:16] + "\u00b2" + WANG[17], "name": "王", "org_code": "C01T01V01"}}, 422,
     "invalid_id_number"),
    ("devanagari digit in an ID number", "post", "/api/v1/residents",
     {"json": {"id_number": WANG[:13] + "\u096a" + WANG[14:], "name": "王", "org_code": "C01T01V01"}}, 422,
     "invalid_id_number"),
    ("lone surrogate in a name", "post", "/api/v1/residents",
     {"data": '{"id_number": "' + WANG + '", "name": "\\ud800", "org_code": "C01T01V01"}',
      "content_type": "application/json"}, 422, "validation_error"),
    ("lone surrogate in start data", "post", "/api/v1/process-instances",
     {"data": '{"process_id": "approval", "data": {"x": "\\udfff"}}', "content_type": "application/json"}, 422,
     "validation_error"),
]


@pytest.fixture()
def api(login_as, deploy_models):
    deploy_models("approval.bpmn", "approval", with_dmn=False)
    return login_as("county_admin", "process_owner", "township_doctor", "integration")


def _counts(app) -> tuple[int, ...]:
    with app.app_context():
        from app.core import db
        s = db.session()
        out = tuple(s.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in (Resident, ProcessInstance, ProcessVersion, InboundEvent))
        s.rollback()
        return out


@pytest.mark.parametrize(("name", "method", "path", "kwargs", "status", "code"), CORPUS, ids=[c[0] for c in CORPUS])
def test_malformed_input_is_a_clear_client_error_and_writes_nothing(app, api, name, method, path, kwargs, status,
                                                                   code):
    before = _counts(app)
    response = getattr(api, method)(path, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    if code is not None:
        assert body["code"] == code
    else:
        assert body["resourceType"] == "OperationOutcome"
    assert _counts(app) == before


def test_an_id_number_typed_with_full_width_digits_is_understood(api):
    full_width = WANG.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    response = api.post("/api/v1/residents", json={"id_number": full_width, "name": "王建国",
                                                   "org_code": "C01T01V01"})
    assert response.status_code == 201 and response.get_json()["id_number"] == WANG


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "gb18030"])
def test_a_bpmn_file_in_another_declared_encoding_is_read_correctly(api, encoding):
    xml = (REPO / "tests/fixtures/models/approval.bpmn").read_text(encoding="utf-8")
    data = xml.replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"').encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    response = api.post("/api/v1/process-definitions/validate", data={"file": [(io.BytesIO(data), "approval.bpmn")]},
                        content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    deployed = api.post("/api/v1/process-definitions", data={"file": [(io.BytesIO(data), "approval.bpmn")]},
                        content_type="multipart/form-data")
    assert deployed.status_code == 201
    process = api.get("/api/v1/process-definitions/approval").get_json()
    assert process["name"] == "两步审批 (benchmark model)"


def test_a_bpmn_file_whose_bytes_contradict_its_declared_encoding_is_refused(app, api):
    xml = (REPO / "tests/fixtures/models/approval.bpmn").read_text(encoding="utf-8")
    before = _counts(app)
    response = api.post("/api/v1/process-definitions",
                        data={"file": [(io.BytesIO(xml.encode("gb18030")), "approval.bpmn")]},
                        content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.get_json()["code"] == "invalid_definition"
    assert response.get_json()["details"]["file"] == "approval.bpmn"
    assert _counts(app) == before


@pytest.mark.parametrize(("method", "path"), [("put", "/api/v1/residents"), ("delete", "/api/v1/tasks"),
                                               ("post", "/healthz")])
def test_method_not_allowed_says_which_methods_are(api, method, path):
    response = getattr(api, method)(path)
    assert response.status_code == 405
    assert response.get_json()["code"] == "method_not_allowed"
    assert "GET" in {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_refused_read_leaves_no_audit_entry_either(app, api):
    with app.app_context():
        from app.core import db
        before = db.session().execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        db.session().rollback()
    api.get("/api/v1/residents?q=%00")
    with app.app_context():
        after = db.session().execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        db.session().rollback()
    assert after == before
