"""FHIR R4: a transaction Bundle applied all or nothing, broken bundles answered with OperationOutcome, and the
read/search API returning R4-valid resources scoped to the caller."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import func, select

from app.core import ratelimit
from app.core.db import session

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "fhir"
FHIR_JSON = "application/fhir+json"


def bundle(name: str) -> dict:
    return json.loads((CORPUS / name).read_text())


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    with app.app_context():
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=50, burst=500).reset()


@pytest.fixture()
def his(app, client_as, org_tree):
    """The county HIS as an integration client with a bearer token."""
    from app.auth.services import create_client, create_token
    with app.app_context():
        client, _secret = create_client("县医院 HIS")
        _, raw = create_token(client.user_id, name="his")
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return test_client


def post(his, body: dict):
    return his.post("/fhir", data=json.dumps(body, ensure_ascii=False), content_type=FHIR_JSON)


def counts(app) -> dict[str, int]:
    from app.residents import models, record_models
    with app.app_context():
        return {m.__name__: session().scalar(select(func.count()).select_from(m)) for m in (
            models.Resident, record_models.Observation, record_models.Condition, record_models.Encounter,
            record_models.Medication)}


def valid_r4(resource: dict) -> dict:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def test_a_transaction_bundle_is_applied_whole(app, his):
    response = post(his, bundle("transaction_valid.json"))
    assert response.status_code == 200, response.get_json()
    assert response.content_type == FHIR_JSON
    result = valid_r4(response.get_json())
    assert result["type"] == "transaction-response"
    locations = [e["response"]["location"].split("/")[0] for e in result["entry"]]
    assert locations == ["Patient", "Encounter", "Condition", "Observation", "Observation", "MedicationRequest"]
    assert counts(app) == {"Resident": 1, "Observation": 2, "Condition": 1, "Encounter": 1, "Medication": 1}


def test_the_same_bundle_sent_twice_is_applied_once(app, his):
    first = post(his, bundle("transaction_valid.json"))
    again = post(his, bundle("transaction_valid.json"))
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert counts(app)["Observation"] == 2


BROKEN = [
    # file, HTTP status, issue code, expression
    ("broken_reference_missing.json", 422, "not-found", "Bundle.entry[4].resource.subject.reference"),
    ("broken_reference_wrong_type.json", 422, "invalid", "Bundle.entry[4].resource.subject.reference"),
    ("broken_reference_unknown_patient.json", 422, "not-found", "Bundle.entry[4].resource.subject.reference"),
    ("broken_invalid_birth_date.json", 400, "structure", "Bundle.entry[0].resource.birthDate"),
    ("broken_wrong_value_type.json", 400, "structure", "Bundle.entry[4].resource.valueQuantity.value"),
    ("broken_unknown_loinc.json", 422, "code-invalid", "Bundle.entry[4].resource"),
    ("broken_condition_not_icd10.json", 422, "code-invalid", "Bundle.entry[2].resource.code"),
    ("broken_not_transaction.json", 400, "invalid", "Bundle.type"),
    ("broken_unsupported_resource.json", 422, "not-supported", "Bundle.entry[6].resource"),
    ("broken_unknown_unit.json", 422, "code-invalid", "Bundle.entry[4].resource"),
    ("broken_birth_date_contradicts_id_number.json", 422, "value", "Bundle.entry[0].resource"),
]


@pytest.mark.parametrize(("name", "status", "issue", "expression"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_bundle_is_answered_with_an_operation_outcome_and_stores_nothing(app, his, name, status, issue,
                                                                                  expression):
    response = post(his, bundle(name))
    assert response.status_code == status
    outcome = valid_r4(response.get_json())
    assert outcome["resourceType"] == "OperationOutcome"
    first = outcome["issue"][0]
    assert first["code"] == issue and first["severity"] == "error" and first["diagnostics"]
    assert first["expression"][0].startswith(expression)
    assert set(counts(app).values()) == {0}


def test_a_bundle_that_is_not_json_is_400(his):
    response = his.post("/fhir", data="{nope", content_type=FHIR_JSON)
    assert response.status_code == 400 and response.get_json()["issue"][0]["code"] == "structure"


def test_posting_needs_an_integration_client(app, client_as, org_tree):
    response = client_as("village_doctor").post("/fhir", data=json.dumps(bundle("transaction_valid.json")),
                                                content_type=FHIR_JSON)
    assert response.status_code == 403 and response.get_json()["resourceType"] == "OperationOutcome"


# -- read and search ------------------------------------------------------------------------------------------------

@pytest.fixture()
def li(app, his):
    result = post(his, bundle("transaction_valid.json")).get_json()
    return int(result["entry"][0]["response"]["location"].split("/")[1])


def test_read_a_patient(his, li):
    patient = valid_r4(his.get(f"/fhir/Patient/{li}").get_json())
    assert patient["name"][0]["text"] == "李秀英" and patient["gender"] == "female"
    assert {"system": "urn:oid:2.16.156.10011.1.3", "value": "330127196208013783"} in patient["identifier"]


def test_search_patients_by_id_card_identifier(his, li):
    found = valid_r4(his.get("/fhir/Patient?identifier=urn:oid:2.16.156.10011.1.3|330127196208013783").get_json())
    assert found["type"] == "searchset" and [e["resource"]["id"] for e in found["entry"]] == [str(li)]
    assert found["entry"][0]["resource"]["identifier"][1]["value"] == "3" + "*" * 16 + "3"
    assert "*" in found["entry"][0]["resource"]["identifier"][1]["value"]          # masked in search results


@pytest.mark.parametrize(("path", "count"), [
    ("Observation?patient={li}", 2), ("Observation?patient=Patient/{li}&code=http://loinc.org|4548-4", 1),
    ("Condition?patient={li}", 1), ("MedicationRequest?patient={li}", 1), ("Encounter?patient={li}", 1),
    ("CarePlan?patient={li}", 0), ("ServiceRequest?patient={li}", 0), ("Task?patient={li}", 0)])
def test_searches_return_valid_searchset_bundles(his, li, path, count):
    found = valid_r4(his.get("/fhir/" + path.format(li=li)).get_json())
    assert found["type"] == "searchset" and found["total"] == count
    for entry in found.get("entry", []):
        valid_r4(entry["resource"])


def test_an_observation_comes_back_in_its_canonical_unit(his, li):
    found = his.get(f"/fhir/Observation?patient={li}&code=8480-6").get_json()
    quantity = found["entry"][0]["resource"]["valueQuantity"]
    assert (quantity["value"], quantity["unit"]) == (162, "mm[Hg]")


def test_a_patient_outside_the_callers_scope_does_not_exist(app, his, li, client_as):
    other_village = client_as("village_doctor", org="C01T02V01")
    response = other_village.get(f"/fhir/Patient/{li}")
    assert response.status_code == 404 and response.get_json()["resourceType"] == "OperationOutcome"
    assert other_village.get(f"/fhir/Observation?patient={li}").status_code == 404


def test_the_managing_village_doctor_reads_the_record(his, li, client_as):
    doctor = client_as("village_doctor", org="C01T01V02")
    assert doctor.get(f"/fhir/Condition?patient={li}").get_json()["total"] == 1


def test_a_search_without_a_patient_is_400(his):
    response = his.get("/fhir/Observation")
    assert response.status_code == 400 and response.get_json()["issue"][0]["code"] == "required"


def test_reading_needs_a_signed_in_caller(client):
    response = client.get("/fhir/Patient/1")
    assert response.status_code == 401 and response.get_json()["resourceType"] == "OperationOutcome"


def test_the_capability_statement_is_valid_r4(client):
    valid_r4(client.get("/fhir/metadata").get_json())


def test_a_patient_whose_birth_date_contradicts_a_registered_id_number_is_refused(app, his):
    first = post(his, bundle("transaction_valid.json"))
    assert first.status_code == 200
    before = counts(app)
    response = post(his, bundle("broken_birth_date_contradicts_id_number.json"))
    assert response.status_code == 422
    outcome = valid_r4(response.get_json())
    assert "birth_date_mismatch" in json.dumps(outcome, ensure_ascii=False)
    assert counts(app) == before


def test_an_observations_performing_organisation_is_kept_for_the_network_record(app, his):
    """Issue 17.5: `Observation.performer` (Organization/<code>) is the result's source organisation (全网记录, 互认)."""
    from app.residents.record_models import Observation
    body = bundle("transaction_valid.json")
    observations = [e["resource"] for e in body["entry"] if e["resource"]["resourceType"] == "Observation"]
    observations[0]["performer"] = [{"reference": "Organization/C01"}]
    assert post(his, body).status_code == 200
    with app.app_context():
        assert sorted(o.org_code or "" for o in session().scalars(select(Observation))) == ["", "C01"]
