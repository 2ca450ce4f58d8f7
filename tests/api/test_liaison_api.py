"""Expert liaison through the API: the county administrator keeps the 下沉专家 rota (double booking, leave from the
consult registry, past days and unregistered doctors refused with stable codes); the township sees this week's
expert and who is on call now, and books joint-clinic or consult slots until full; the specialty-building plan runs
approval → milestone review on its due date (indicator read from the quality library) → closing evaluation; the
liaison indicators move on the quality dashboard."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock
from tests.liaison_support import deploy_liaison_models, duty, monday_morning, register_expert
from tests.test_consult_support import agreement, make_resident
from tests.test_follow_up_support import complete, open_tasks, tick


@pytest.fixture()
def world(app, county, login_as):
    deploy_liaison_models(app)
    monday = monday_morning()
    w = {"monday": monday, "admin": login_as("county_admin", org="C01"),
         "expert": login_as("county_specialist", org="C01D01"), "other_expert": login_as("county_specialist", org="C01D01"),
         "township": login_as("township_doctor", org="C01T01"), "village": login_as("village_doctor", org="C01T01V01"),
         "other_township": login_as("township_doctor", org="C01T02"), "resident": make_resident(app)}
    register_expert(app, w["expert"].user.id)
    register_expert(app, w["other_expert"].user.id, leave=(monday + timedelta(days=2), monday + timedelta(days=4)))
    return w


def test_the_administrator_schedules_an_expert_and_the_township_sees_its_week(world):
    d = duty(world["admin"], expert_user_id=world["expert"].user.id, township_code="C01T01",
             on_date=(world["monday"] + timedelta(days=1)).isoformat())
    assert d["township_name"] == "城关镇卫生院" or d["township_code"] == "C01T01"
    assert (d["kind_label"], d["half_day_label"], d["remaining"], d["bookable"]) == ("下沉坐诊", "上午", 2, True)
    week = world["village"].get("/api/v1/liaison/week")
    assert week.status_code == 200, week.json
    assert week.json["township_code"] == "C01T01" and week.json["can_book"] is True
    assert [e["user_id"] for e in week.json["experts"]] == [world["expert"].user.id]
    assert world["other_township"].get("/api/v1/liaison/week").json["duties"] == []
    assert world["other_township"].get("/api/v1/liaison/week?township_code=C01T01").status_code == 404


def test_an_expert_cannot_be_at_two_townships_in_the_same_half_day(world):
    day = (world["monday"] + timedelta(days=1)).isoformat()
    duty(world["admin"], expert_user_id=world["expert"].user.id, township_code="C01T01", on_date=day)
    clash = world["admin"].post("/api/v1/liaison/duties", json={
        "kind": "visit", "half_day": "am", "capacity": 1, "expert_user_id": world["expert"].user.id,
        "township_code": "C01T02", "on_date": day})
    assert clash.status_code == 409 and clash.json["code"] == "expert_double_booked"
    assert clash.json["details"]["township_code"] == "C01T01"
    afternoon = duty(world["admin"], expert_user_id=world["expert"].user.id, township_code="C01T02", on_date=day,
                     half_day="pm")
    assert afternoon["half_day"] == "pm"


@pytest.mark.parametrize("case,code,status", [("leave", "expert_on_leave", 409), ("past", "date_in_past", 422),
                                              ("unregistered", "expert_not_registered", 422),
                                              ("village", "township_not_found", 404)])
def test_a_duty_that_cannot_be_worked_is_refused_and_nothing_is_stored(world, case, code, status):
    body = {"kind": "visit", "half_day": "am", "capacity": 1, "expert_user_id": world["expert"].user.id,
            "township_code": "C01T01", "on_date": (world["monday"] + timedelta(days=3)).isoformat()}
    if case == "leave":
        body["expert_user_id"] = world["other_expert"].user.id
    if case == "past":
        body["on_date"] = (world["monday"] - timedelta(days=1)).isoformat()
    if case == "unregistered":
        body["expert_user_id"] = world["township"].user.id
    if case == "village":
        body["township_code"] = "C01T01V01"
    resp = world["admin"].post("/api/v1/liaison/duties", json=body)
    assert (resp.status_code, resp.json["code"]) == (status, code)
    assert world["admin"].get(f"/api/v1/liaison/duties?start={world['monday']}").json["items"] == []


def test_only_the_county_administrator_keeps_the_rota(world):
    resp = world["township"].post("/api/v1/liaison/duties", json={
        "kind": "visit", "half_day": "am", "expert_user_id": world["expert"].user.id, "township_code": "C01T01",
        "on_date": world["monday"].isoformat()})
    assert resp.status_code == 403


def test_on_call_now_is_shown_to_the_township(world):
    duty(world["admin"], kind="on_call", expert_user_id=world["expert"].user.id, township_code="C01T01",
         on_date=world["monday"].isoformat())
    week = world["township"].get("/api/v1/liaison/week").json
    assert [d["expert_name"] for d in week["on_call_now"]] == [world["expert"].user.display_name]
    clock.advance(timedelta(days=1))                # Tuesday 09:00: Monday's on-call ended at 08:00
    assert world["township"].get("/api/v1/liaison/week").json["on_call_now"] == []


def test_joint_clinic_slots_are_booked_until_full(app, world):
    d = duty(world["admin"], expert_user_id=world["expert"].user.id, township_code="C01T01",
             on_date=(world["monday"] + timedelta(days=1)).isoformat(), capacity=1)
    first = world["village"].post(f"/api/v1/liaison/duties/{d['id']}/bookings", json={
        "kind": "joint_clinic", "resident_id": world["resident"], "reason": "血压控制不佳，请专家联合门诊调整方案"})
    assert first.status_code == 201, first.json
    assert (first.json["kind_label"], first.json["status_label"]) == ("联合门诊", "已预约")
    again = world["township"].post(f"/api/v1/liaison/duties/{d['id']}/bookings", json={
        "kind": "joint_clinic", "resident_id": world["resident"], "reason": "复诊"})
    assert (again.status_code, again.json["code"]) == (409, "already_booked")
    other = make_resident(app, name="李秀英", seed=11)
    full = world["township"].post(f"/api/v1/liaison/duties/{d['id']}/bookings", json={
        "kind": "joint_clinic", "resident_id": other, "reason": "糖尿病足筛查"})
    assert (full.status_code, full.json["code"]) == (409, "slot_full")
    cancelled = world["village"].post(f"/api/v1/liaison/bookings/{first.json['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert world["township"].post(f"/api/v1/liaison/duties/{d['id']}/bookings", json={
        "kind": "joint_clinic", "resident_id": other, "reason": "糖尿病足筛查"}).status_code == 201
    listed = world["township"].get("/api/v1/liaison/bookings").json["items"]
    assert {b["resident_name"] for b in listed} == {"王建国", "李秀英"}


def test_a_session_already_over_cannot_be_booked(world):
    d = duty(world["admin"], expert_user_id=world["expert"].user.id, township_code="C01T01",
             on_date=world["monday"].isoformat())
    clock.advance(timedelta(hours=3))              # 12:00, the morning session ended at 11:30
    resp = world["village"].post(f"/api/v1/liaison/duties/{d['id']}/bookings", json={
        "kind": "joint_clinic", "resident_id": world["resident"], "reason": "复诊"})
    assert (resp.status_code, resp.json["code"]) == (422, "slot_in_past")


def test_another_township_cannot_book_or_see_the_duty(world):
    d = duty(world["admin"], expert_user_id=world["expert"].user.id, township_code="C01T01",
             on_date=(world["monday"] + timedelta(days=1)).isoformat())
    resp = world["other_township"].post(f"/api/v1/liaison/duties/{d['id']}/bookings", json={
        "kind": "joint_clinic", "resident_id": world["resident"], "reason": "复诊"})
    assert (resp.status_code, resp.json["code"]) == (404, "duty_not_found")


def test_a_consult_slot_starts_the_remote_consult_with_the_expert_named(app, world):
    agreement(app, requester="C01T01", invited="C01D01")
    d = duty(world["admin"], expert_user_id=world["expert"].user.id, township_code="C01T01",
             on_date=(world["monday"] + timedelta(days=2)).isoformat(), half_day="pm")
    resp = world["township"].post(f"/api/v1/liaison/duties/{d['id']}/bookings", json={
        "kind": "consult", "resident_id": world["resident"], "reason": "反复胸闷，基层两次调整方案无效",
        "consult": {"purpose": "明确胸闷原因并调整方案", "summary": {"chief_complaint": "反复胸闷1月"}}})
    assert resp.status_code == 201, resp.json
    consult = world["township"].get(f"/api/v1/consults/{resp.json['consult_id']}").json
    assert consult["specialty"] == "cardiology" and consult["status"] in ("requested", "consent_pending")


def test_a_consult_slot_without_an_agreement_is_refused_and_no_slot_is_taken(world):
    d = duty(world["admin"], expert_user_id=world["expert"].user.id, township_code="C01T01",
             on_date=(world["monday"] + timedelta(days=2)).isoformat())
    resp = world["township"].post(f"/api/v1/liaison/duties/{d['id']}/bookings", json={
        "kind": "consult", "resident_id": world["resident"], "reason": "胸闷",
        "consult": {"summary": {"chief_complaint": "胸闷"}}})
    assert resp.status_code == 422 and resp.json["code"].startswith("no_agreement")
    assert world["township"].get("/api/v1/liaison/week").json["duties"][0]["booked"] == 0


def _plan_body(monday, **extra) -> dict:
    return {"township_code": "C01T01", "specialty": "cardiology", "title": "城关胸痛救治单元共建",
            "starts_on": monday.isoformat(), "ends_on": (monday + timedelta(days=120)).isoformat(),
            "goals": ["建成胸痛救治单元", "基层首份心电图10分钟内完成"],
            "activities": ["心内科专家每周二坐诊", "每月一次病例讨论"],
            "milestones": [{"title": "第一季度评估", "due_on": (monday + timedelta(days=2)).isoformat(),
                            "indicators": [{"indicator_id": "liaison_days_delivered", "target": 80},
                                           {"name": "心电图10分钟完成率", "unit": "%", "target": 90}]}], **extra}


def test_the_specialty_plan_runs_from_approval_through_milestone_review_to_closing(app, world):
    d = duty(world["admin"], expert_user_id=world["expert"].user.id, township_code="C01T01",
             on_date=(world["monday"] + timedelta(days=2)).isoformat())      # the milestone's due date
    resp = world["township"].post("/api/v1/liaison/plans", json=_plan_body(world["monday"]))
    assert resp.status_code == 201, resp.json
    plan = resp.json
    assert plan["status_label"] == "待审批" and plan["milestones"][0]["indicators"][0]["name"] == "下沉专家到岗率"
    [task] = open_tasks(world["admin"], "approve_plan")
    complete(world["admin"], task, {"decision": "approve", "comment": "同意，医务科每月督导"})
    assert world["township"].get(f"/api/v1/liaison/plans/{plan['id']}").json["status"] == "active"
    tick(app, days=1)
    assert open_tasks(world["township"], "review_milestone") == []
    clock.advance(timedelta(days=1))              # Wednesday 09:00: the expert confirms the morning is worked
    assert world["expert"].post(f"/api/v1/liaison/duties/{d['id']}/deliver").json["status"] == "delivered"
    tick(app)                                     # the milestone's timer (09:00 on its due date) opens the review
    [review] = open_tasks(world["township"], "review_milestone")
    detail = world["township"].get(f"/api/v1/tasks/{review['id']}").json
    assert "下沉专家到岗率：目标≥80%，指标库 100%" in str(detail)
    complete(world["township"], review, {"values": [None, 92], "review_note": "按计划推进，心电图完成及时"})
    plan = world["township"].get(f"/api/v1/liaison/plans/{plan['id']}").json
    stone = plan["milestones"][0]
    assert (stone["status"], [i["value"] for i in stone["review"]["indicators"]]) == ("met", [100.0, 92.0])
    assert plan["status"] == "evaluating"
    [closing] = open_tasks(world["admin"], "closing_evaluation")
    complete(world["admin"], closing, {"rating": "good", "summary": "胸痛单元建成，基层心电图完成及时"})
    plan = world["township"].get(f"/api/v1/liaison/plans/{plan['id']}").json
    assert (plan["status_label"], plan["evaluation"]["milestones_met"]) == ("已结题", 1)


def test_a_returned_plan_goes_back_to_the_township_and_a_rejected_one_ends(world):
    plan = world["township"].post("/api/v1/liaison/plans", json=_plan_body(world["monday"])).json
    [task] = open_tasks(world["admin"], "approve_plan")
    complete(world["admin"], task, {"decision": "return", "comment": "请补充带教查房安排"})
    [revise] = open_tasks(world["township"], "revise_plan")
    complete(world["township"], revise, {"goals": ["建成胸痛救治单元"], "activities": ["每周二坐诊", "每周带教查房"]})
    assert world["township"].get(f"/api/v1/liaison/plans/{plan['id']}").json["activities"][-1] == "每周带教查房"
    [task] = open_tasks(world["admin"], "approve_plan")
    complete(world["admin"], task, {"decision": "reject", "comment": "与县级规划不符"})
    assert world["township"].get(f"/api/v1/liaison/plans/{plan['id']}").json["status_label"] == "未批准"


@pytest.mark.parametrize("change,code", [
    ({"milestones": []}, "milestones_required"),
    ({"goals": ["  "]}, "goals_required"),
    ({"milestones": [{"title": "x", "due_on": "2099-01-01", "indicators": [{"name": "a", "target": 1}]}],
      }, "milestone_outside_plan"),
    ({"milestones": [{"title": "x", "due_on": None, "indicators": [{"indicator_id": "no_such", "target": 1}]}]},
     "validation_error"),
])
def test_a_plan_with_bad_milestones_is_refused_before_anything_starts(world, change, code):
    body = _plan_body(world["monday"], **change)
    resp = world["township"].post("/api/v1/liaison/plans", json=body)
    assert resp.status_code == 422 and resp.json["code"] == code, resp.json
    assert world["township"].get("/api/v1/liaison/plans").json["items"] == []


def test_the_liaison_indicators_count_on_the_quality_dashboard(app, world):
    for k, half in enumerate(("am", "pm")):
        duty(world["admin"], expert_user_id=world["expert"].user.id, township_code="C01T01",
             on_date=world["monday"].isoformat(), half_day=half, capacity=2 + k)
    items = world["admin"].get("/api/v1/liaison/duties").json["items"]
    world["village"].post(f"/api/v1/liaison/duties/{items[0]['id']}/bookings", json={
        "kind": "joint_clinic", "resident_id": world["resident"], "reason": "复诊"})
    world["expert"].post(f"/api/v1/liaison/duties/{items[0]['id']}/deliver")
    period = f"{world['monday']:%Y-%m}"
    overview = world["admin"].get(f"/api/v1/quality/overview?group=liaison&period={period}&org_code=C01T01").json
    assert "indicators" in overview, overview
    got = {i["id"]: (i["numerator"], i["denominator"]) for i in overview["indicators"]}
    assert got["liaison_days_delivered"] == (1, 2)
    assert got["liaison_slot_use"] == (1, 5)
