"""Follow-up decisions take the official inputs (issue 12.7): the diabetes visit is classified from glucose with BP
optional; an adverse reaction recorded as hard to control refers the patient (T04d/T05d row 3, T19)."""
from __future__ import annotations

from sqlalchemy import select

from app.core import db
from tests.test_follow_up_support import (
    classified_visit,
    complete,
    htn_visit,
    local_today,
    one_task,
    plan_in_force,
    resident_fixture,  # noqa: F401  (the `resident` fixture)
    tick,
)

DM_PLAN = {"targets": {"sbp_lt": 130, "dbp_lt": 80, "hba1c_lt": 7.0}, "drugs": [
    {"drug": "metformin", "name": "二甲双胍片", "dose_mg": 500, "frequency": "tid"}], "lifestyle": {},
    "follow_up_interval_days": 30, "education_topics": ["hypoglycemia"]}


def test_a_diabetes_visit_without_blood_pressure_is_classified_from_glucose(app, login_as, resident):
    done = plan_in_force(app, login_as, resident, disease="t2dm", risk="MODERATE", content=DM_PLAN)
    tick(app, 24)
    task = one_task(done["village"], "record_dm_visit")
    assert "bp_readings" not in task["form"]["schema"]["properties"]["signs"].get("required", [])
    record = htn_visit(local_today(app), 0, 0)
    record["signs"] = {"weight_kg": 66.0}
    record["labs"] = {"fpg": 7.6}
    record["medication"]["hypoglycemia"] = "无"
    complete(done["village"], task, record)
    visit = classified_visit(app)
    assert (visit.classification, visit.action, visit.next_due_days) == ("控制不满意", "调整用药_2周随访", 14)
    assert visit.sbp is None and visit.fpg == 7.6


def test_blood_readings_without_their_source_are_refused_on_the_diabetes_form(app, login_as, resident):
    done = plan_in_force(app, login_as, resident, disease="t2dm", risk="MODERATE", content=DM_PLAN)
    tick(app, 24)
    task = one_task(done["village"], "record_dm_visit")
    record = htn_visit(local_today(app), 128, 78)
    del record["signs"]["bp_source"]
    record["labs"] = {"fpg": 6.2}
    record["medication"]["hypoglycemia"] = "无"
    resp = done["village"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": record})
    assert resp.status_code == 422, resp.json
    assert any(e["field"].endswith("bp_source") for e in resp.json["details"]["errors"]), resp.json


def test_an_adverse_reaction_hard_to_control_refers_the_patient(app, login_as, resident):
    from app.follow_up.models import ReferralRequest
    from tests.referral_support import deploy_referral_models
    deploy_referral_models(app)
    done = plan_in_force(app, login_as, resident)
    tick(app, 24)
    complete(done["village"], one_task(done["village"], "record_htn_visit_high_risk"),
             htn_visit(local_today(app), 128, 78, adr="难以控制"))
    visit = classified_visit(app)
    assert (visit.classification, visit.action, visit.next_due_days) == ("不良反应", "转诊", 14)
    assert "T04d 行3" in visit.decision["reason"]
    with app.app_context():
        row = db.session().scalars(select(ReferralRequest)).one()
    assert (row.action, row.urgency) == ("转诊", "routine")


def test_a_manageable_adverse_reaction_still_adjusts_the_drugs_in_two_weeks(app, login_as, resident):
    done = plan_in_force(app, login_as, resident)
    tick(app, 24)
    complete(done["village"], one_task(done["village"], "record_htn_visit_high_risk"),
             htn_visit(local_today(app), 128, 78, adr="有"))
    visit = classified_visit(app)
    assert (visit.classification, visit.action, visit.next_due_days) == ("不良反应", "调整用药_2周随访", 14)
