"""End to end with a fake clock: enrol → plan drafted, approved, issued, acknowledged → follow-ups come due on
schedule → completed with values through the tasks API → classified → the interval changes → 控制不满意 twice
leads to a referral → an overdue follow-up escalates, each level once."""
from __future__ import annotations

from sqlalchemy import func, select

from app.core import db
from tests.test_follow_up_support import (
    PLAN,
    complete,
    deploy_care_models,
    htn_visit,
    local_today,
    make_resident,
    one_task,
    open_tasks,
    tick,
)


def _visits(app, resident_id):
    from app.follow_up.models import FollowUpVisit
    with app.app_context():
        return list(db.session().scalars(select(FollowUpVisit).where(FollowUpVisit.resident_id == resident_id)
                                         .order_by(FollowUpVisit.cycle_no)))


def _schedule(app, resident_id):
    from app.follow_up.models import FollowUpSchedule
    with app.app_context():
        return db.session().scalars(select(FollowUpSchedule).where(FollowUpSchedule.resident_id == resident_id)).one()


def _days_until(app, due_on, *, overdue: int) -> int:
    from datetime import date
    return (due_on - date.fromisoformat(local_today(app))).days + overdue


def _count(app, model, **where):
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return db.session().scalar(stmt)


def test_a_year_of_care_from_enrolment_to_referral_and_escalation(app, login_as):
    from app.follow_up.models import FollowUpEscalation, ReferralRequest
    from app.notifications.models import Notification
    deploy_care_models(app)
    resident = make_resident(app)                                   # 1956: ≥65 y, controlled means <150/90
    specialist = login_as("county_specialist", org="C01", username="zhang_specialist")
    lead = login_as("county_specialist", org="C01", username="li_director")
    village = login_as("village_doctor", org="C01T01V01", username="wang_village")
    township = login_as("township_doctor", org="C01T01", username="zhao_township")

    # enrolled and graded HIGH → a care plan is requested (the screening hook) and drafted at the county
    requested = specialist.post("/api/v1/care-plans/requests",
                                json={"resident_id": resident, "disease": "htn", "risk_level": "HIGH"})
    assert requested.status_code == 202 and requested.json["status"] == "started", requested.json
    draft = one_task(specialist, "draft_plan_county")
    assert draft["form"]["schema"]["properties"]["content"]["default"]["targets"]["sbp_lt"] == 140   # 70 y, no diabetes
    complete(specialist, draft, {"content": PLAN, "change_reason": "首次制订"})
    approve = one_task(lead, "approve_plan")
    complete(lead, approve, {"approved": True, "approval_comment": "同意"})
    ack = one_task(village, "acknowledge_plan")
    complete(village, ack, {"acknowledged": True})

    plan = specialist.get(f"/api/v1/care-plans?resident_id={resident}").json["items"][0]
    assert plan["status"] == "active" and plan["current_version"] == 1
    detail = specialist.get(f"/api/v1/care-plans/{plan['id']}").json
    assert detail["current"]["status"] == "acknowledged" and detail["current"]["approved_by"] == "li_director"
    assert detail["current"]["drafted_by"] == "zhang_specialist"
    assert _schedule(app, resident).interval_days == 30
    summary = specialist.get(f"/api/v1/residents/{resident}").json["summary"]
    assert [(p["disease"], p["version"]) for p in summary["care_plan"]] == [("htn", 1)]
    assert summary["next_follow_up"]["due_on"] == _schedule(app, resident).next_due_on.isoformat()

    # nothing is due yet; 24 days later the first cycle comes due (generated 7 days ahead) with its due date
    tick(app)
    assert open_tasks(village, "record_htn_visit_high_risk") == []
    tick(app, 24)
    task = one_task(village, "record_htn_visit_high_risk")
    assert task["due_at"][:10] == _schedule(app, resident).next_due_on.isoformat()
    assert task["form"]["schema"]["properties"]["medication"]["properties"]["drugs"]["default"][0]["drug"] == "amlodipine"

    # visit 1: controlled → 常规随访, next due after the plan's 30 days (not the table's 90)
    tick(app, 3)
    complete(village, task, htn_visit(local_today(app), 138, 84))
    v1 = _visits(app, resident)[0]
    assert (v1.classification, v1.action, v1.next_due_days) == ("控制满意", "常规随访", 90)
    assert (v1.next_due_on - v1.visited_on).days == 30
    assert v1.decision["decision_id"] == "htn_follow_up" and v1.decision["versions"]["htn_follow_up"] >= 1

    # visit 2: uncontrolled → 调整用药, 2周随访
    tick(app, 27)
    complete(village, one_task(village, "record_htn_visit_high_risk"), htn_visit(local_today(app), 162, 96))
    v2 = _visits(app, resident)[1]
    assert (v2.classification, v2.action) == ("控制不满意", "调整用药_2周随访")
    assert (v2.next_due_on - v2.visited_on).days == 14
    assert _schedule(app, resident).consecutive_uncontrolled == 1

    # visit 3: uncontrolled again → 转诊 (prev_uncontrolled), a referral request the referral process picks up
    tick(app, 10)
    complete(village, one_task(village, "record_htn_visit_high_risk"), htn_visit(local_today(app), 158, 92))
    v3 = _visits(app, resident)[2]
    assert (v3.classification, v3.action) == ("控制不满意", "转诊")
    referral = specialist.get("/api/v1/referral-requests").json
    assert [(r["action"], r["urgency"], r["status"]) for r in referral] == [("转诊", "routine", "converted")]
    assert _schedule(app, resident).consecutive_uncontrolled == 0          # the chain restarts after a referral

    # visit 4 is not done: it falls overdue and escalates, each level once
    tick(app, 10)
    v4 = _visits(app, resident)[3]
    assert v4.status == "started"
    tick(app, _days_until(app, v4.due_on, overdue=2))
    tick(app)                                           # a second run escalates nothing more
    assert _count(app, FollowUpEscalation, visit_id=v4.id, level="reminder") == 1
    assert _count(app, FollowUpEscalation, visit_id=v4.id) == 1
    tick(app, _days_until(app, v4.due_on, overdue=8))   # ≥7 days overdue → the township
    tick(app)
    assert _count(app, FollowUpEscalation, visit_id=v4.id, level="township_lead") == 1
    assert _count(app, FollowUpEscalation, visit_id=v4.id) == 2
    assert _count(app, Notification, user_id=township.user.id, kind="follow_up_overdue") == 1
    assert _count(app, Notification, user_id=village.user.id, kind="follow_up_overdue") == 1
    overdue = township.get("/api/v1/follow-ups/overdue").json
    assert [(i["resident_id"], i["days_overdue"]) for i in overdue["items"]] == [(resident, 8)]

    timeline = village.get(f"/api/v1/residents/{resident}/follow-ups").json
    assert [v["classification"] for v in timeline["visits"]] == ["控制满意", "控制不满意", "控制不满意", None]
    assert [p["value"] for p in timeline["trend"]["htn"]["sbp"]] == [138, 162, 158]
    assert _count(app, ReferralRequest) == 1
