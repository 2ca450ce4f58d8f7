"""The health record API: observations by LOINC code with unit normalisation and client-id idempotency, the record
view with its chronic-disease summary first, and scope."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.residents import records

AT = "2026-03-01T08:30:00+08:00"


@pytest.fixture()
def resident(make_resident):
    return make_resident(org="C01T01V01", name="张桂兰", sex="F")


@pytest.fixture()
def doctor(client_as):
    return client_as("village_doctor", org="C01T01V01")


def _obs(**overrides) -> dict:
    return {"code": "8480-6", "value": 152, "unit": "mm[Hg]", "effective_at": AT, "source": "village_app",
            **overrides}


def test_a_new_observation_answers_201_in_canonical_units(doctor, resident):
    response = doctor.post(f"/api/v1/residents/{resident['id']}/observations",
                           json=_obs(code="1558-6", value=126, unit="mg/dL"))
    assert response.status_code == 201
    body = response.get_json()
    assert body["value"] == pytest.approx(6.99, abs=0.01) and body["unit"] == "mmol/L"
    assert body["original_value"] == "126" and body["original_unit"] == "mg/dL"


def test_creatinine_in_mg_dl_is_stored_in_umol_l(doctor, resident):
    response = doctor.post(f"/api/v1/residents/{resident['id']}/observations",
                           json=_obs(code="2160-0", value=1.2, unit="mg/dL"))
    assert response.status_code == 201 and response.get_json()["value"] == 106 \
        and response.get_json()["unit"] == "umol/L"


def test_resending_the_same_client_id_answers_200_with_the_first_row(doctor, resident):
    url = f"/api/v1/residents/{resident['id']}/observations"
    first = doctor.post(url, json=_obs(id="0b0e6a2c-phone-1"))
    again = doctor.post(url, json=_obs(id="0b0e6a2c-phone-1", value=999))
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["value"] == 152
    assert doctor.get(url).get_json()["total"] == 1


def test_an_unknown_loinc_code_is_422_unknown_code(doctor, resident):
    response = doctor.post(f"/api/v1/residents/{resident['id']}/observations", json=_obs(code="99999-9"))
    assert response.status_code == 422 and response.get_json()["code"] == "unknown_code"


def test_a_wrong_unit_is_422_invalid_unit(doctor, resident):
    response = doctor.post(f"/api/v1/residents/{resident['id']}/observations", json=_obs(unit="kPa"))
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_unit"


def test_an_implausible_value_is_422_invalid_value(doctor, resident):
    response = doctor.post(f"/api/v1/residents/{resident['id']}/observations", json=_obs(value=1520))
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_value"


def test_a_naive_time_is_rejected(doctor, resident):
    response = doctor.post(f"/api/v1/residents/{resident['id']}/observations",
                           json=_obs(effective_at="2026-03-01T08:30:00"))
    assert response.status_code == 422


def test_the_trend_of_one_code_is_newest_first(doctor, resident):
    url = f"/api/v1/residents/{resident['id']}/observations"
    for day, sbp in ((1, 150), (2, 146), (3, 138)):
        doctor.post(url, json=_obs(value=sbp, effective_at=f"2026-03-0{day}T08:00:00+08:00"))
    doctor.post(url, json=_obs(code="8462-4", value=90))
    series = doctor.get(url + "?code=8480-6").get_json()["items"]
    assert [p["value"] for p in series] == [138, 146, 150]


def test_the_record_starts_with_the_chronic_disease_summary(app, doctor, resident):
    at = datetime(2026, 2, 1, tzinfo=UTC)
    with app.app_context():
        records.record_condition(resident["id"], icd10="I10", onset_on=None, source="his", rescreen=False)
        records.record_medication(resident["id"], drug="氨氯地平", dose="5mg", frequency="qd", started_on=None,
                                  source="his")
        for day, sbp in ((1, 160), (8, 150)):
            records.record_observation(resident["id"], code="8480-6", value=sbp, unit="mmHg",
                                       effective_at=at.replace(day=day), source="his", rescreen=False)
        records.set_referral_flag(resident["id"], source="insurance", reason="双向转诊患者")
    body = doctor.get(f"/api/v1/residents/{resident['id']}").get_json()
    summary = body["summary"]
    assert [d["icd10"] for d in summary["diagnoses"]] == ["I10"] and summary["diagnoses"][0]["disease"] == "htn"
    assert summary["current_medications"][0]["drug"] == "氨氯地平"
    sbp = summary["key_values"]["8480-6"]
    assert sbp["latest"]["value"] == 150 and [p["value"] for p in sbp["trend"]] == [160, 150]
    assert sbp["direction"] == "down"
    assert summary["referral_flags"][0]["source"] == "insurance"
    assert summary["care_plan"] == [] and summary["next_follow_up"] is None   # no plan, no schedule yet
    assert body["id_number"] and body["observations"][0]["value"] == 150


def test_a_village_doctor_cannot_read_another_villages_record(client_as, make_resident):
    other = make_resident(org="C01T02V01")
    doctor = client_as("village_doctor", org="C01T01V01")
    assert doctor.get(f"/api/v1/residents/{other['id']}").status_code == 404
    assert doctor.get(f"/api/v1/residents/{other['id']}/observations").status_code == 404
    assert doctor.post(f"/api/v1/residents/{other['id']}/observations", json=_obs()).status_code == 404


def test_a_township_doctor_reads_the_records_of_her_villages(client_as, resident):
    township = client_as("township_doctor", org="C01T01")
    assert township.get(f"/api/v1/residents/{resident['id']}").status_code == 200


def test_a_client_id_of_another_residents_row_is_409(app, make_resident, resident):
    other = make_resident(org="C01T01V01", name="李四", born=datetime(1970, 1, 1).date())
    at = datetime(2026, 2, 1, tzinfo=UTC)
    with app.app_context():
        records.record_observation(resident["id"], code="8480-6", value=140, unit="mmHg", effective_at=at,
                                   source="his", client_id="dup-1", rescreen=False)
        with pytest.raises(records.ClientIdConflict):
            records.record_observation(other["id"], code="8480-6", value=140, unit="mmHg", effective_at=at,
                                       source="his", client_id="dup-1", rescreen=False)
