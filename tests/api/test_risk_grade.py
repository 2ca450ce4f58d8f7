"""Issue 12.1: hypertension risk is graded from the BP before treatment (rules.md, the note under T01 and T03), a
drug-controlled visit never lowers the grade, new risk factors or clinical conditions raise it, and only a
clinician's explicit re-assessment (with a reason, audited) lowers it. The grade's basis is on the record."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.core import clock
from app.residents import records
from app.residents.management import enrol
from tests.api.test_screening import deployed  # noqa: F401  (fixture)


def post_bp(api, resident_id: int, sbp: int, dbp: int, at) -> None:
    for code, value in (("8480-6", sbp), ("8462-4", dbp)):
        resp = api.post(f"/api/v1/residents/{resident_id}/observations",
                        json={"code": code, "value": value, "unit": "mmHg", "effective_at": at.isoformat(),
                              "source": "village_app"})
        assert resp.status_code == 201, resp.get_json()


def grade_of(api, resident_id: int) -> dict:
    [level] = [x for x in api.get(f"/api/v1/residents/{resident_id}").get_json()["summary"]["risk_levels"]
               if x["disease"] == "htn"]
    return level


@pytest.fixture()
def graded(app, make_resident, make_user, deployed):  # noqa: F811
    """A man of 70 (age > 55: one risk factor) diagnosed 30 days ago at 170/100 (G2 × C1 → 中/高危 → 高危)."""
    village_doctor = make_user("village_doctor", org="C01T01V01")
    resident = make_resident(org="C01T01V01", name="陈立新", sex="M", born=date(1956, 3, 14),
                             family_doctor_user_id=village_doctor.id)
    with app.app_context():
        at = clock.now() - timedelta(days=30)
        for code, value in (("8480-6", 170), ("8462-4", 100)):
            records.record_observation(resident["id"], code=code, value=value, unit="mmHg", effective_at=at,
                                       source="his", rescreen=False)
        diagnosed = clock.today() - timedelta(days=30)
        enrol(resident["id"], disease="htn", icd10="I10", diagnosed_on=diagnosed, managing_doctor_user_id=None,
              village_code="C01T01V01", screening_case_id=None, source="test", actor="test")
        from app.screening.stratify import start_grading
        assert start_grading(resident["id"], "htn", reason="enrolled", force=True) is not None
    return resident | {"village_doctor": village_doctor, "diagnosed_on": diagnosed.isoformat()}


def test_a_high_risk_patient_stays_high_after_a_controlled_visit(app, client_as, graded):
    with app.app_context():                        # amlodipine from the day after diagnosis: on treatment since
        records.record_medication(graded["id"], drug="amlodipine 氨氯地平片", dose="5mg", frequency="qd",
                                  started_on=clock.today() - timedelta(days=29), source="his")
    village = client_as(user=graded["village_doctor"])
    assert grade_of(village, graded["id"])["level"] == "HIGH"
    post_bp(village, graded["id"], 128, 78, clock.now())
    level = grade_of(village, graded["id"])
    assert (level["level"], level["label"], level["source"]) == ("HIGH", "高危", "grading")
    bp = level["basis"]["bp"]
    assert (bp["sbp"]["value"], bp["dbp"]["value"]) == (170, 100)
    assert bp["sbp"]["on"] == graded["diagnosed_on"] and bp["sbp"]["source"] == "his"
    assert (bp["rule"], bp["treatment_started_on"]) == (
        "untreated", (clock.today() - timedelta(days=29)).isoformat())


def test_without_recorded_treatment_the_highest_reading_grades_and_a_higher_one_raises(app, client_as, graded):
    village = client_as(user=graded["village_doctor"])
    post_bp(village, graded["id"], 118, 74, clock.now() - timedelta(days=2))     # no "none" after a good visit
    level = grade_of(village, graded["id"])
    assert level["level"] == "HIGH" and level["basis"]["bp"]["rule"] == "highest_on_record"
    post_bp(village, graded["id"], 184, 112, clock.now() - timedelta(days=1))    # G3 × C1 → 很高危
    level = grade_of(village, graded["id"])
    assert (level["level"], level["previous_level"]) == ("VERY_HIGH", "HIGH")
    assert (level["basis"]["bp"]["sbp"]["value"], level["basis"]["bp"]["dbp"]["value"]) == (184, 112)


def test_a_new_clinical_condition_raises_the_grade_of_a_treated_patient(app, client_as, graded):
    with app.app_context():
        records.record_medication(graded["id"], drug="缬沙坦胶囊", dose="80mg", frequency="qd",
                                  started_on=clock.today() - timedelta(days=29), source="his")
        records.record_condition(graded["id"], icd10="I63.9", onset_on=clock.today(), source="his")   # stroke: ACC
    doctor = client_as("township_doctor", org="C01T01")
    assert grade_of(doctor, graded["id"])["level"] == "VERY_HIGH"


def test_only_a_clinicians_reassessment_lowers_a_grade(app, client_as, graded):
    from app.audit.models import AuditEntry
    from app.core import db
    doctor = client_as("township_doctor", org="C01T01")
    url = f"/api/v1/residents/{graded['id']}/risk-levels/htn/reassessment"
    village = client_as(user=graded["village_doctor"])
    assert village.post(url, json={"level": "MODERATE", "reason": "复测"}).status_code == 403
    missing = doctor.post(url, json={"level": "MODERATE", "reason": "  "})
    assert (missing.status_code, missing.get_json()["code"]) == (422, "reason_required")
    bad = doctor.post(url, json={"level": "MEDIUMISH", "reason": "复核"})
    assert (bad.status_code, bad.get_json()["code"]) == (422, "invalid_level")
    ok = doctor.post(url, json={"level": "MODERATE", "reason": "动态血压监测提示白大衣高血压，复核为中危"})
    assert ok.status_code == 200, ok.get_json()
    level = grade_of(doctor, graded["id"])
    assert (level["level"], level["source"], level["source_label"]) == ("MODERATE", "clinician", "医生复核")
    assert level["reassessed_reason"].startswith("动态血压") and level["reassessed_by"]
    with app.app_context():
        audited = db.session().scalars(select(AuditEntry).where(AuditEntry.action == "risk_level.reassess")).all()
        assert len(audited) == 1
    post_bp(village, graded["id"], 132, 82, clock.now())      # same basis: the clinician's grade stands
    assert grade_of(doctor, graded["id"])["level"] == "MODERATE"
    with app.app_context():                                    # a stroke is more than the clinician overruled
        records.record_condition(graded["id"], icd10="I63.9", onset_on=clock.today(), source="his")
    level = grade_of(doctor, graded["id"])
    assert (level["level"], level["source"]) == ("VERY_HIGH", "grading")


def test_the_level_confirmed_on_review_is_kept(app, client_as, graded):
    """12.9: the township doctor's review confirms 中危 for the 高危 proposal; the proposal does not overwrite it."""
    from tests.test_follow_up_support import complete, one_task
    doctor = client_as("township_doctor", org="C01T01")
    review = one_task(doctor, "review_high_risk", resident_id=graded["id"])
    complete(doctor, review, {"confirmed_level": "MODERATE", "plan": "维持原方案", "note": "家庭自测血压均正常，复核为中危"})
    level = grade_of(doctor, graded["id"])
    assert (level["level"], level["source"], level["reassessed_reason"]) == (
        "MODERATE", "clinician", "家庭自测血压均正常，复核为中危")
    with app.app_context():                    # new data, the same 高危 proposal: the confirmed level stands
        records.record_observation(graded["id"], code="8280-0", value=86, unit="cm", effective_at=clock.now(),
                                   source="his")
    level = grade_of(doctor, graded["id"])
    assert (level["level"], level["proposed_level"]) == ("MODERATE", "HIGH")
