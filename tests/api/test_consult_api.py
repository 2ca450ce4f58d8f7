"""Remote consult stories through the API: an urgent real-time consult end to end (consent signed on the phone,
review, acceptance, expert assignment, deterioration → emergency referral while the consult goes on, signed report
PDF archived on both sides, adoption, evaluation, billing, satisfaction); an MDT where each expert signs; an offline
imaging consult with its 3-minute acceptance SLA; declines; no agreement; no consent."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core import clock
from tests.test_consult_support import (
    CONSENT,
    agreement,
    complete,
    consult,
    deploy_consult_models,
    expert,
    make_resident,
    open_tasks,
    request_body,
    signature_png,
    step,
)
from tests.test_follow_up_support import tick


@pytest.fixture()
def world(app, county, login_as):
    """Township C01T01 has an agreement with the county hospital C01; cardiology C01D01 has three experts."""
    deploy_consult_models(app)
    agreement(app)
    w = {"resident": make_resident(app), "village": login_as("village_doctor", org="C01T01V01"),
         "township": login_as("township_doctor", org="C01T01"),
         "supervisor": login_as("supervisor", org="C01"),
         "chief": login_as("county_specialist", org="C01D01"), "assoc": login_as("county_specialist", org="C01D01"),
         "attending": login_as("county_specialist", org="C01D01"),
         "other_village": login_as("village_doctor", org="C01T02V01")}
    expert(app, w["chief"].user.id, "chief")
    expert(app, w["assoc"].user.id, "associate_chief")
    expert(app, w["attending"].user.id, "attending")
    return w


def _request(w, **extra) -> dict:
    resp = w["village"].post("/api/v1/consults", json=request_body(w["resident"], **extra))
    assert resp.status_code == 201, resp.json
    return resp.json


def _consent(w, c) -> dict:
    resp = w["village"].post(f"/api/v1/consults/{c['id']}/consent", json={**CONSENT, "signature": signature_png()})
    assert resp.status_code == 200, resp.json
    return resp.json


def _to_invited(w, c) -> None:
    _consent(w, c)
    complete(w["township"], step(w["township"], "review_request"),
             {"decision": "approve", "summary_complete": True, "purpose_clear": True, "materials_complete": True})


def _options(task: dict, field: str) -> list:
    return task["form"]["schema"]["properties"][field]["enum"]


def _notifications(app, kind: str) -> list:
    from sqlalchemy import select

    from app.core.db import session
    from app.notifications.models import Notification
    with app.app_context():
        return list(session().scalars(select(Notification).where(Notification.kind == kind)))


def test_urgent_real_time_consult_end_to_end(app, world):
    w = world
    c = _request(w, device_ids=["MON-BED-3"])
    assert c["consult_no"].startswith("HZ") and c["status"] == "consent_pending"
    assert open_tasks(w["supervisor"], "accept_consult") == []          # nothing sent before consent
    d = _consent(w, c)
    assert d["status"] == "reviewing" and d["consent"]["has_signature"] and "signature" not in d["consent"]
    assert d["sla_rule"] == "R4-1" and d["accept_sla"] == "PT10M" and d["report_sla"] == "PT30M"
    complete(w["township"], step(w["township"], "review_request"), {"decision": "approve"})
    d = consult(w["village"], c["id"])
    assert d["status"] == "invited" and d["accept_due_at"]
    invited = _notifications(app, "consult_invited")
    assert invited and "邀请事由" in invited[0].body and "病历摘要" in invited[0].body and "主任" not in invited[0].title
    assert w["supervisor"].post(f"/api/v1/consults/{c['id']}/accept").status_code == 200
    task = step(w["supervisor"], "assign_experts")
    leads = set(_options(task, "lead_expert"))
    assert leads == {w["chief"].user.id, w["assoc"].user.id, w["attending"].user.id}
    complete(w["supervisor"], task, {"lead_expert": w["assoc"].user.id,
                                     "slot": clock.local(clock.now() + timedelta(minutes=5)).isoformat()})
    d = consult(w["assoc"], c["id"])
    assert d["status"] == "scheduled" and d["room"]["status"] == "open" and d["room"]["participant"]
    assert d["my_role"] == "lead"
    with app.app_context():
        from app.live import services as live
        room = live.room_for("consult", c["id"])
        assert room.is_open and set(room.participants) == {w["village"].user.id, w["assoc"].user.id}
        assert room.device_ids == ("MON-BED-3",)
        live.record_vital("MON-BED-3", "59408-5", 88, clock.now())          # SpO2 88 %: alarm
        from app.core.db import session
        session().commit()
    alarms = [e for e in consult(w["village"], c["id"])["timeline"] if e["event"] == "alarm"]
    assert len(alarms) == 1 and "血氧饱和度" in alarms[0]["text"] and "88" in alarms[0]["text"]
    # the patient deteriorates during the consult: an emergency referral starts, the consult goes on
    resp = w["village"].post(f"/api/v1/consults/{c['id']}/deterioration", json={"reason": "血压下降至80/50，意识淡漠"})
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "scheduled" and len(resp.json["referral_ids"]) == 1
    refs = w["village"].get(f"/api/v1/residents/{w['resident']}/referrals").json
    assert refs[0]["urgency"] == "emergency" and "远程会诊" in refs[0]["reason"]
    started = clock.now()
    report = step(w["assoc"], "write_report")
    complete(w["assoc"], report, {"started_at": started.isoformat(), "ended_at": (started + timedelta(minutes=40)).isoformat(),
                                  "assessment": "急性冠脉综合征可能大", "diagnosis": "急性非ST段抬高型心肌梗死",
                                  "icd10": "I21.4", "treatment": "阿司匹林300mg嚼服，氯吡格雷300mg，尽快转上级PCI",
                                  "suggest_referral": True, "sign": True})
    d = consult(w["village"], c["id"])
    assert d["status"] == "reported" and d["room"]["status"] == "closed"
    with app.app_context():
        assert not live.room_for("consult", c["id"]).is_open                 # the room closes with the report
    assert [o["role"] for o in d["opinions"]] == ["lead"] and len(d["opinions"][0]["signature"]) == 64
    assert {doc["side"] for doc in d["documents"]} == {"requester", "invited"}
    pdf = w["village"].get(f"/api/v1/consults/{c['id']}/report.pdf")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    other = w["supervisor"].get(f"/api/v1/consults/{c['id']}/report.pdf?side=invited")
    assert other.status_code == 200 and other.headers["X-Content-SHA256"] == pdf.headers["X-Content-SHA256"]
    timeline = w["village"].get(f"/api/v1/residents/{w['resident']}/consults").json
    assert timeline[0]["diagnosis"] == "急性非ST段抬高型心肌梗死"
    complete(w["village"], step(w["village"], "adopt_opinion"),
             {"adoption": "all", "final_plan": "双抗后转县医院胸痛中心", "physician_sign": True})
    complete(w["village"], step(w["village"], "evaluate"),
             {"timeliness": 5, "pertinence": 5, "av_quality": 4, "avoided_transfer": False})
    d = consult(w["village"], c["id"])
    assert d["status"] == "closed" and d["adoption_label"] == "全部采纳"
    assert d["billing"]["billable_units"] == 2 and d["billing"]["amount"] == "400.00"      # 40 min, 30-min units
    resp = w["village"].post(f"/api/v1/consults/{c['id']}/satisfaction", json={"score": 5})
    assert resp.status_code == 200 and resp.json["satisfaction"] == 5
    period = clock.today().strftime("%Y-%m")
    figures = {i["id"]: i for i in w["supervisor"].get(f"/api/v1/quality/overview?period={period}").json["indicators"]}
    assert figures["consult_consent_complete"]["value"] == 100 and figures["consult_adoption_rate"]["value"] == 100
    assert figures["consult_accept_on_time"]["numerator"] == 1 and figures["consult_avoided_transfer"]["value"] == 0
    assert figures["consult_satisfaction"]["value"] == 100 and figures["consult_report_on_time"]["denominator"] == 1
    events = [e["event"] for e in d["timeline"]]
    assert events.index("consent") < events.index("invited") < events.index("accepted") < events.index("referral")
    # outside both organisations: not found
    assert w["other_village"].get(f"/api/v1/consults/{c['id']}").status_code == 404


def test_mdt_each_expert_signs_and_the_lead_signs_the_summary(app, world):
    w = world
    c = _request(w, consult_type="mdt", mode="offline", urgency="routine")
    _to_invited(w, c)
    w["supervisor"].post(f"/api/v1/consults/{c['id']}/accept")
    task = step(w["supervisor"], "assign_experts")
    assert "其他 2 名专家" in task["instructions"]
    assert set(_options(task, "lead_expert")) == {w["chief"].user.id, w["assoc"].user.id}
    bad = w["supervisor"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {
        "lead_expert": w["attending"].user.id, "members": [w["chief"].user.id, w["assoc"].user.id],
        "slot": clock.now().isoformat()}})
    assert bad.status_code == 200
    task = step(w["supervisor"], "assign_experts")
    assert "牵头专家不符合" in task["instructions"]          # an attending may not lead an MDT
    complete(w["supervisor"], task, {"lead_expert": w["chief"].user.id,
                                     "members": [w["assoc"].user.id, w["attending"].user.id],
                                     "slot": clock.now().isoformat()})
    report = {"started_at": clock.now().isoformat(), "ended_at": clock.now().isoformat(), "assessment": "稳定型心绞痛",
              "diagnosis": "冠心病 稳定型心绞痛", "sign": True}
    complete(w["chief"], step(w["chief"], "write_report"), report)
    again = step(w["chief"], "write_report")                  # refused: the members have not signed
    assert "尚有专家未签署本人意见" in again["instructions"]
    opinion = {"assessment": "心功能尚可", "diagnosis": "冠心病"}
    assert w["chief"].post(f"/api/v1/consults/{c['id']}/opinions", json=opinion).json["code"] == "lead_signs_summary"
    assert w["village"].post(f"/api/v1/consults/{c['id']}/opinions", json=opinion).status_code == 403
    declined = w["attending"].post(f"/api/v1/consults/{c['id']}/expert-decline", json={"reason": ""})
    assert declined.status_code == 400 and declined.json["code"] == "reason_required"
    resp = w["assoc"].post(f"/api/v1/consults/{c['id']}/opinions", json=opinion)
    assert resp.status_code == 201 and len(resp.json["signature"]) == 64
    assert w["assoc"].post(f"/api/v1/consults/{c['id']}/opinions", json=opinion).json["code"] == "already_signed"
    assert w["assoc"].post(f"/api/v1/consults/{c['id']}/expert-decline",
                           json={"reason": "已签署"}).json["code"] == "already_signed"
    out = w["attending"].post(f"/api/v1/consults/{c['id']}/expert-decline", json={"reason": "临时手术，无法参加"})
    assert out.status_code == 200 and w["attending"].user.id not in out.json["expert_ids"]
    assert any(e["event"] == "expert_declined" and "临时手术" in e["text"] for e in out.json["timeline"])
    complete(w["chief"], again, report)
    d = consult(w["village"], c["id"])
    assert d["status"] == "reported" and sorted(o["role"] for o in d["opinions"]) == ["lead", "member"]


def test_offline_imaging_consult_escalates_then_reports(app, world):
    w = world
    w["radiologist"] = w["attending"]
    expert(app, w["attending"].user.id, "attending", specialty="radiology")
    c = _request(w, consult_type="imaging", mode="offline", urgency="routine", specialty="radiology",
                 attachments=[{"kind": "dicom", "ref": "1.2.840.113619.2.55.3.604688119", "title": "胸部CT"}])
    _to_invited(w, c)
    d = consult(w["village"], c["id"])
    assert d["sla_rule"] == "R4-2" and d["accept_sla"] == "PT3M" and d["room"]["status"] is None
    tick(app, days=4 / 1440)                                  # 4 minutes: past the 3-minute acceptance SLA
    assert _notifications(app, "consult_escalated")
    assert consult(w["village"], c["id"])["status"] == "invited"    # escalated, still waiting for the decision
    w["supervisor"].post(f"/api/v1/consults/{c['id']}/accept")
    complete(w["supervisor"], step(w["supervisor"], "assign_experts"),
             {"lead_expert": w["attending"].user.id, "slot": clock.now().isoformat()})
    complete(w["attending"], step(w["attending"], "write_report"),
             {"started_at": clock.now().isoformat(), "ended_at": (clock.now() + timedelta(minutes=8)).isoformat(),
              "assessment": "右肺上叶磨玻璃结节 8mm", "diagnosis": "肺结节，建议随访", "sign": True})
    d = consult(w["village"], c["id"])
    assert d["status"] == "reported" and d["mode_label"] == "离线" and d["type_label"] == "影像"
    resp = w["village"].post(f"/api/v1/consults/{c['id']}/deterioration", json={"reason": "气促"})
    assert resp.status_code == 409 and resp.json["code"] == "not_in_consult"


def test_declined_consult_needs_a_reason(app, world):
    w = world
    c = _request(w, urgency="routine")
    _to_invited(w, c)
    resp = w["supervisor"].post(f"/api/v1/consults/{c['id']}/decline", json={"reason": " "})
    assert resp.status_code == 400 and resp.json["code"] == "reason_required"
    task = step(w["supervisor"], "accept_consult")
    resp = w["supervisor"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"decision": "decline"}})
    assert resp.status_code == 422                             # the form requires the reason too
    resp = w["supervisor"].post(f"/api/v1/consults/{c['id']}/decline", json={"reason": "本院心内科专家本周外出培训"})
    assert resp.status_code == 200 and resp.json["status"] == "declined"
    assert resp.json["decline_reason"] == "本院心内科专家本周外出培训"
    told = _notifications(app, "consult_declined")
    assert told and told[0].user_id == w["village"].user.id and "外出培训" in told[0].body


def test_unanswered_invitation_is_declined_with_timeout_after_twice_the_sla(app, world):
    w = world
    c = _request(w)                                             # urgent real-time: 10 minutes
    _to_invited(w, c)
    tick(app, days=11 / 1440)
    assert _notifications(app, "consult_escalated") and consult(w["village"], c["id"])["status"] == "invited"
    tick(app, days=10 / 1440)
    d = consult(w["village"], c["id"])
    assert d["status"] == "declined" and "timeout" in d["decline_reason"]


def test_no_agreement_is_refused_with_the_reason(app, world, login_as):
    w = world
    other = login_as("township_doctor", org="C01T02")
    body = request_body(make_resident(app, org="C01T02V01", name="李秀英", born=date(1961, 5, 2)))
    resp = other.post("/api/v1/consults", json=body)
    assert resp.status_code == 422 and resp.json["code"] == "no_agreement"
    assert "没有远程医疗合作协议" in resp.json["message"]
    agreement(app, "C01T02", "C01", no="YL-2025-009", valid_from=clock.today() - timedelta(days=400),
              valid_to=clock.today() - timedelta(days=35))
    resp = other.post("/api/v1/consults", json=body)
    assert resp.status_code == 422 and resp.json["code"] == "agreement_expired" and "到期" in resp.json["message"]
    assert w["village"].get("/api/v1/consults").json["total"] == 0


def test_no_consent_no_invitation(app, world):
    w = world
    c = _request(w)
    resp = w["village"].post(f"/api/v1/consults/{c['id']}/consent", json={**CONSENT, "signature": None})
    assert resp.status_code == 422 and resp.json["code"] == "signature_invalid"
    resp = w["village"].post(f"/api/v1/consults/{c['id']}/consent",
                             json={**CONSENT, "signature": "data:image/png;base64,iVBORw0KGgo="})
    assert resp.status_code == 422 and resp.json["code"] == "signature_invalid"
    relative = {**CONSENT, "signer_type": "relative", "signer_name": "王小明", "signature": signature_png()}
    resp = w["village"].post(f"/api/v1/consults/{c['id']}/consent", json=relative)
    assert resp.status_code == 422                              # relation + why the patient was not told
    d = consult(w["village"], c["id"])
    assert d["status"] == "consent_pending" and d["invited_at"] is None
    assert open_tasks(w["supervisor"], "accept_consult") == [] and not _notifications(app, "consult_invited")
    resp = w["village"].post(f"/api/v1/consults/{c['id']}/consent",
                             json={**CONSENT, "consented": False, "signature": None})
    assert resp.status_code == 200 and resp.json["status"] == "cancelled" and resp.json["invited_at"] is None
    assert open_tasks(w["supervisor"], "accept_consult") == [] and not _notifications(app, "consult_invited")


def test_the_request_form_offers_the_organisations_under_agreement(world, login_as):
    opts = world["village"].get("/api/v1/consults/options").json
    assert {o["value"] for o in opts["invited_orgs"]} >= {"C01", "C01D01"}
    assert any(o["label"] == "单学科" for o in opts["types"])
    assert login_as("village_doctor", org="C01T02V01").get("/api/v1/consults/options").json["invited_orgs"] == []
