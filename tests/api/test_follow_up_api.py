"""Follow-up cycles: reminders once, device readings as form defaults, emergencies start the referral process,
adverse reactions ask for a plan revision, 失访 is recorded, generation is idempotent."""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from app.core import db
from tests.test_follow_up_support import (
    complete,
    htn_visit,
    local_today,
    one_task,
    open_tasks,
    plan_in_force,
    resident_fixture,  # noqa: F401  (the `resident` fixture)
    tick,
)


def _count(app, model, **where):
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return db.session().scalar(stmt)


def _first_cycle(app, login_as, resident, **kw):
    done = plan_in_force(app, login_as, resident, **kw)
    tick(app, 24)                                         # 30-day plan: generated 7 days ahead
    return done


def test_a_due_follow_up_reminds_the_doctor_and_a_patient_once(app, login_as, resident):
    from app.auth.services import create_user
    from app.follow_up import reminders
    from app.notifications.models import Notification
    with app.app_context():
        patient = create_user("patient_wang", password="secret-pass-1", roles=["patient"], org_code="C01T01V01",
                              resident_id=resident)
        from app.portal import consent  # reminders go only to a patient who consented (issue 21.2)
        consent.decide(resident, purpose="reminder", channel="app", granted=True, via="clinic")
    done = _first_cycle(app, login_as, resident)
    tick(app, 4)                                          # due in 2 days
    with app.app_context():
        again = reminders.send_due_reminders()            # a retried job
    assert again == 0
    assert _count(app, Notification, user_id=done["village"].user.id, kind="follow_up_due") == 1
    assert _count(app, Notification, user_id=patient.id, kind="follow_up_due_patient") == 1
    tick(app)
    assert _count(app, Notification, kind="follow_up_due") == 1


def test_patients_without_consent_are_not_reminded(app, login_as, resident):
    from app.auth.services import create_user
    from app.follow_up import reminders
    from app.notifications.models import Notification
    with app.app_context():
        patient = create_user("patient_li", password="secret-pass-1", roles=["patient"], org_code="C01T01V01",
                              resident_id=resident)
    reminders._consent_checks.append(lambda resident_id: False)
    try:
        _first_cycle(app, login_as, resident)
        tick(app, 4)
    finally:
        reminders._consent_checks.pop()
    assert _count(app, Notification, user_id=patient.id) == 0


def test_a_device_reading_prefills_the_open_follow_up_form(app, login_as, resident):
    done = _first_cycle(app, login_as, resident)
    cuff = login_as("integration", org="C01")
    at = datetime(2026, 1, 5, 8, 0, tzinfo=UTC).isoformat()
    for code, value in (("8480-6", 146), ("8462-4", 88), ("8867-4", 70)):
        resp = cuff.post("/api/v1/follow-ups/device-readings",
                         json={"resident_id": resident, "code": code, "value": value, "unit": "mm[Hg]",
                               "effective_at": at})
        assert resp.status_code == 200, resp.json
    task = one_task(done["village"], "record_htn_visit_high_risk")
    signs = task["form"]["schema"]["properties"]["signs"]["properties"]
    assert signs["bp_readings"]["default"] == [{"sbp": 146, "dbp": 88}] and signs["heart_rate"]["default"] == 70


def test_a_dm_emergency_starts_the_referral_process(app, login_as, resident):
    from app.follow_up.models import ReferralRequest
    from app.referral.models import Referral
    from app.workflows.models import ProcessInstance
    from tests.referral_support import deploy_referral_models
    deploy_referral_models(app)
    dm_plan = {"targets": {"sbp_lt": 130, "dbp_lt": 80, "hba1c_lt": 7.0}, "drugs": [
        {"drug": "metformin", "name": "二甲双胍片", "dose_mg": 500, "frequency": "tid"}], "lifestyle": {},
        "follow_up_interval_days": 30, "education_topics": ["hypoglycemia"]}
    done = _first_cycle(app, login_as, resident, disease="t2dm", risk="MODERATE", content=dm_plan)
    task = one_task(done["village"], "record_dm_visit")
    record = htn_visit(local_today(app), 132, 80)
    record["symptoms"] = {"items": ["多饮", "多尿"]}
    record["labs"] = {"fpg": 17.2}
    record["medication"]["hypoglycemia"] = "无"
    complete(done["village"], task, record)
    with app.app_context():
        row = db.session().scalars(select(ReferralRequest)).one()
        started = db.session().get(ProcessInstance, row.referral_instance_id)
        referral = db.session().scalars(select(Referral)).one()
    assert (row.action, row.urgency, row.status) == ("紧急转诊", "emergency", "converted")
    assert started.process_id == "referral_up" and started.resident_id == resident
    assert (referral.urgency, referral.reason_code, referral.source) == ("emergency", "EMER_DM", "follow_up")


def test_an_adverse_reaction_asks_the_township_for_a_plan_revision(app, login_as, resident):
    done = _first_cycle(app, login_as, resident)
    complete(done["village"], one_task(done["village"], "record_htn_visit_high_risk"),
             htn_visit(local_today(app), 136, 82, adr="有"))
    township = login_as("township_doctor", org="C01T01")
    proposal = one_task(township, "propose_revision")
    assert "不良反应" in proposal["instructions"]
    assert proposal["form"]["schema"]["properties"]["content"]["default"]["drugs"][0]["drug"] == "amlodipine"


def test_lost_to_follow_up_is_recorded_and_retried_in_two_weeks(app, login_as, resident):
    from app.follow_up.models import FollowUpVisit
    done = _first_cycle(app, login_as, resident)
    today = local_today(app)
    complete(done["village"], one_task(done["village"], "record_htn_visit_high_risk"),
             {"visit": {"visit_date": today, "visit_type": "phone", "outcome": "失访", "lost_reason": "外出务工"}})
    with app.app_context():
        visit = db.session().scalars(select(FollowUpVisit)).one()
    assert visit.classification is None and (visit.next_due_on - date.fromisoformat(today)).days == 14


def test_an_online_visit_needs_its_link(app, login_as, resident):
    done = _first_cycle(app, login_as, resident)
    task = one_task(done["village"], "record_htn_visit_high_risk")
    record = htn_visit(local_today(app), 130, 80, visit_type="online")
    resp = done["village"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": record})
    assert resp.status_code == 422 and resp.json["details"]["errors"][0]["field"] == "visit.online_link"


def test_generating_due_cycles_twice_makes_each_cycle_once(app, login_as, resident):
    from app.follow_up import scheduling
    from app.follow_up.models import FollowUpVisit
    done = _first_cycle(app, login_as, resident)
    with app.app_context():
        assert scheduling.generate_due_cycles() == 0
    assert _count(app, FollowUpVisit) == 1
    assert len(open_tasks(done["village"], "record_htn_visit_high_risk")) == 1
