"""Stratification: an enrolled disease is graded by the pack, the level is written with its reason, new data
re-grades it, and an upgrade to 高危/很高危 gives the township doctor a task and the village doctor a notice."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.residents import records
from app.residents.management import enrol
from tests.api.test_screening import deployed  # noqa: F401  (fixture)

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def bp(doctor, resident_id: int, sbp: int, dbp: int, at: str):
    for code, value in (("8480-6", sbp), ("8462-4", dbp)):
        response = doctor.post(f"/api/v1/residents/{resident_id}/observations",
                               json={"code": code, "value": value, "unit": "mmHg", "effective_at": at,
                                     "source": "village_app"})
        assert response.status_code == 201


@pytest.fixture()
def enrolled(app, make_resident, make_user, deployed):  # noqa: F811
    village_doctor = make_user("village_doctor", org="C01T01V01")
    resident = make_resident(org="C01T01V01", name="周大海", sex="M", born=date(1980, 6, 1),
                             family_doctor_user_id=village_doctor.id)
    with app.app_context():
        records.record_observation(resident["id"], code="8480-6", value=142, unit="mmHg", effective_at=AT,
                                   source="his", rescreen=False)
        records.record_observation(resident["id"], code="8462-4", value=88, unit="mmHg", effective_at=AT,
                                   source="his", rescreen=False)
        enrol(resident["id"], disease="htn", icd10="I10", diagnosed_on=date(2026, 3, 2),
              managing_doctor_user_id=None, village_code="C01T01V01", screening_case_id=None, source="test",
              actor="test")
        from app.screening.stratify import start_grading
        start_grading(resident["id"], "htn", reason="enrolled", force=True)
    return resident | {"village_doctor": village_doctor}


def levels(client, resident_id):
    return client.get(f"/api/v1/residents/{resident_id}").get_json()["summary"]["risk_levels"]


def test_an_enrolled_hypertension_is_graded_with_the_rule_that_fired(client_as, enrolled):
    doctor = client_as("township_doctor", org="C01T01")
    [level] = levels(doctor, enrolled["id"])
    # 142/88 = G1, male 45 has no other factor (age >55 counts) → C0 × G1 = 低危 (T03)
    assert (level["level"], level["label"], level["decision_id"]) == ("LOW", "低危", "htn_cv_risk")
    assert "T03" in level["reason"] and level["versions"]["htn_cv_risk"] >= 1


def test_new_data_regrades_and_an_upgrade_reaches_both_doctors(app, client_as, enrolled):
    village = client_as(user=enrolled["village_doctor"])
    bp(village, enrolled["id"], 184, 112, "2026-03-10T09:00:00+08:00")
    township = client_as("township_doctor", org="C01T01")
    [level] = levels(township, enrolled["id"])
    # 184/112 = G3, C0 → 高危 (T03); each reading re-grades (SBP first: 184/88 is already G3)
    assert level["level"] == "HIGH"
    review = [t for t in township.get("/api/v1/tasks?view=groups").get_json()["items"]
              if t["element_id"] == "review_high_risk"]
    assert len(review) == 1 and review[0]["risk_level"] == "HIGH" and review[0]["disease"] == "htn"
    notes = village.get("/api/v1/notifications").get_json()["items"]
    assert any(n["kind"] == "risk_upgrade" for n in notes)


def test_the_same_data_again_does_not_regrade(app, client_as, enrolled):
    from app.screening.stratify import start_grading
    with app.app_context():
        assert start_grading(enrolled["id"], "htn", reason="new_data") is None


def test_an_interrupted_batch_resumes_from_its_cursor(app, make_resident, deployed):  # noqa: F811
    from app.screening import batch
    people = [make_resident(org="C01T01V01", name=f"居民{i}", born=date(1950 + i, 1, 1)) for i in range(5)]
    with app.app_context():
        for p in people:
            records.record_observation(p["id"], code="8480-6", value=150, unit="mmHg",
                                       effective_at=AT - timedelta(days=1), source="his", rescreen=False)
            records.record_observation(p["id"], code="8462-4", value=95, unit="mmHg",
                                       effective_at=AT - timedelta(days=1), source="his", rescreen=False)
        run = batch.create_run(started_by="test", chunk_size=2)
        partial = batch.run(run.id, max_chunks=1)
        assert (partial.status, partial.processed) == ("running", 2)
        assert batch.resumable_run().id == run.id
        done = batch.run(run.id)
        assert (done.status, done.processed) == ("completed", 5)
