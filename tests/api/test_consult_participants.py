"""Remote consult participants beyond the happy path: the invited experts read the patient's network record
(全网记录) only while the consult is open; the lead expert declines and the 医务科 reassigns experts; each MDT member
has their own opinion task; the response-time figures; the satisfaction SMS."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

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
    stored_consult,
)
from tests.test_follow_up_support import tick


@pytest.fixture()
def world(app, county, login_as):
    deploy_consult_models(app)
    agreement(app)
    w = {"resident": make_resident(app), "village": login_as("village_doctor", org="C01T01V01"),
         "township": login_as("township_doctor", org="C01T01"), "supervisor": login_as("supervisor", org="C01"),
         "chief": login_as("county_specialist", org="C01D01"), "assoc": login_as("county_specialist", org="C01D01"),
         "attending": login_as("county_specialist", org="C01D01")}
    expert(app, w["chief"].user.id, "chief")
    expert(app, w["assoc"].user.id, "associate_chief")
    expert(app, w["attending"].user.id, "attending")
    # a township hospital invited by its neighbour: its doctors are outside the resident's scope
    agreement(app, "C01T01", "C01T02", no="YL-2026-002")
    w["gp"] = login_as("township_doctor", org="C01T02")
    w["gp2"] = login_as("township_doctor", org="C01T02")
    expert(app, w["gp"].user.id, "associate_chief", org="C01T02", specialty="general_medicine")
    expert(app, w["gp2"].user.id, "attending", org="C01T02", specialty="general_medicine")
    return w


def _invited(w, **extra) -> dict:
    resp = w["village"].post("/api/v1/consults", json=request_body(w["resident"], **extra))
    assert resp.status_code == 201, resp.json
    c = resp.json
    assert w["village"].post(f"/api/v1/consults/{c['id']}/consent",
                             json={**CONSENT, "signature": signature_png()}).status_code == 200
    complete(w["township"], step(w["township"], "review_request"), {"decision": "approve"})
    assert w["supervisor"].post(f"/api/v1/consults/{c['id']}/accept").status_code == 200
    return c


def _schedule(w, c, lead, members=()) -> None:
    data = {"lead_expert": lead.user.id, "slot": clock.local(clock.now() + timedelta(minutes=5)).isoformat()}
    if members:
        data["members"] = [m.user.id for m in members]
    complete(w["supervisor"], step(w["supervisor"], "assign_experts"), data)


def _record(api, resident_id):
    return api.get(f"/api/v1/recognition/residents/{resident_id}/network-record")


REPORT = {"assessment": "稳定型心绞痛", "diagnosis": "冠心病 稳定型心绞痛", "sign": True}


def test_assigned_experts_read_the_network_record_only_while_the_consult_is_open(app, world):
    from app.audit.models import AuditEntry
    from app.core.db import session
    w = world
    assert _record(w["gp"], w["resident"]).status_code == 404             # no consult yet
    c = _invited(w, invited_org_code="C01T02", specialty="general_medicine")
    assert _record(w["gp"], w["resident"]).status_code == 404             # accepted, no expert assigned yet
    _schedule(w, c, w["gp"])
    resp = _record(w["gp"], w["resident"])
    assert resp.status_code == 200, resp.json
    assert resp.json["access"]["kind"] == "consult" and c["consult_no"] in resp.json["access"]["label"]
    assert resp.json["access"]["ref"] == c["id"]
    assert _record(w["gp2"], w["resident"]).status_code == 404            # same hospital, not assigned
    d = consult(w["gp"], c["id"])
    assert d["network_record"] is True
    assert consult(w["gp2"], c["id"])["network_record"] is False
    now = clock.now()
    complete(w["gp"], step(w["gp"], "write_report"),
             {**REPORT, "started_at": now.isoformat(), "ended_at": (now + timedelta(minutes=20)).isoformat()})
    assert consult(w["village"], c["id"])["status"] == "reported"
    assert _record(w["gp"], w["resident"]).status_code == 404             # the consult itself is over
    assert consult(w["gp"], c["id"])["network_record"] is False
    with app.app_context():
        reads = session().scalars(select(AuditEntry).where(AuditEntry.action == "phi.read",
                                                           AuditEntry.object_type == "network_record")).all()
        assert [r.actor for r in reads] == [w["gp"].user.username]


def _instructions(api, element_id):
    return step(api, element_id)["instructions"]


def test_the_lead_declines_with_a_reason_and_the_medical_affairs_office_reassigns(app, world):
    w = world
    c = _invited(w)
    _schedule(w, c, w["chief"])
    url = f"/api/v1/consults/{c['id']}"
    no_reason = w["chief"].post(f"{url}/expert-decline", json={"reason": " "})
    assert no_reason.status_code == 400 and no_reason.json["code"] == "reason_required"
    out = w["chief"].post(f"{url}/expert-decline", json={"reason": "临时急诊手术，无法参加"})
    assert out.status_code == 200, out.json
    assert out.json["status"] == "accepted" and out.json["expert_ids"] == [] and out.json["lead_expert_id"] is None
    assert any(e["event"] == "reassign" and "临时急诊手术" in e["text"] for e in out.json["timeline"])
    assert open_tasks(w["chief"], "write_report") == []                  # the lead's report step is gone
    task = step(w["supervisor"], "assign_experts")                      # back in the 医务科's inbox
    assert "需重新指派" in task["instructions"] and "临时急诊手术" in task["instructions"]
    leads = set(task["form"]["schema"]["properties"]["lead_expert"]["enum"])
    assert w["chief"].user.id not in leads and w["assoc"].user.id in leads   # who declined is not offered again
    complete(w["supervisor"], task, {"lead_expert": w["assoc"].user.id,
                                     "slot": clock.local(clock.now()).isoformat()})
    d = consult(w["supervisor"], c["id"])
    assert d["status"] == "scheduled" and d["lead_expert_id"] == w["assoc"].user.id and d["can_reassign"]
    assert not consult(w["village"], c["id"])["can_reassign"]
    # the 医务科 reassigns after scheduling: a reason is required, only the 医务科 may
    assert w["supervisor"].post(f"{url}/reassign", json={"reason": ""}).json["code"] == "reason_required"
    assert w["village"].post(f"{url}/reassign", json={"reason": "改派"}).status_code == 403
    moved = w["supervisor"].post(f"{url}/reassign", json={"reason": "副主任医师被抽调下乡义诊"})
    assert moved.status_code == 200 and moved.json["status"] == "accepted"
    assert open_tasks(w["assoc"], "write_report") == []
    complete(w["supervisor"], step(w["supervisor"], "assign_experts"),
             {"lead_expert": w["attending"].user.id, "slot": clock.local(clock.now()).isoformat()})
    now = clock.now()
    complete(w["attending"], step(w["attending"], "write_report"),
             {**REPORT, "started_at": now.isoformat(), "ended_at": (now + timedelta(minutes=20)).isoformat()})
    d = consult(w["village"], c["id"])
    assert d["status"] == "reported" and d["opinions"][0]["expert_id"] == w["attending"].user.id
    assert w["supervisor"].post(f"{url}/reassign", json={"reason": "太晚了"}).json["code"] == "consult_not_in_progress"
    with app.app_context():
        from app.live import services as live
        room = live.room_for("consult", c["id"])
        assert w["chief"].user.id not in room.participants and w["assoc"].user.id not in room.participants


def test_response_time_is_shown_as_mean_and_median_minutes(app, world):
    from app.consult.models import Consult
    from app.core.db import unit_of_work
    w = world
    ids = []
    for _ in range(3):
        ids.append(_invited(w)["id"])
    with app.app_context(), unit_of_work() as s:          # invited at t, answered 4, 10 and 40 minutes later
        for cid, minutes in zip(ids, (4, 10, 40), strict=True):
            row = s.get(Consult, cid)
            row.accepted_at = row.invited_at + timedelta(minutes=minutes)
    period = clock.today().strftime("%Y-%m")
    figures = {i["id"]: i for i in w["supervisor"].get(f"/api/v1/quality/overview?period={period}").json["indicators"]}
    mean, median = figures["consult_response_mean"], figures["consult_response_median"]
    assert mean["unit"] == "分钟" and mean["value"] == 18.0 and mean["numerator"] == 3
    assert median["value"] == 10.0 and median["direction"] == "lower"
    assert figures["consult_response_30min"]["numerator"] == 2
    listed = w["supervisor"].get(f"/api/v1/quality/indicators/consult_response_mean/drilldown?period={period}&part=numerator")
    assert listed.status_code == 200, listed.json
    assert listed.json["total"] == 3


def test_an_aggregate_indicator_must_name_a_numeric_field_and_have_no_denominator():
    from app.core.errors import Invalid
    from app.quality.library import parse_indicator
    base = {"id": "x", "name": "x", "unit": "分钟", "direction": "lower", "window": "month",
            "numerator": {"source": "consults", "where": []}}
    ind = parse_indicator({**base, "aggregate": {"field": "response_minutes", "stat": "median"}})
    assert ind.aggregate == {"field": "response_minutes", "stat": "median"}
    for bad in ({"field": "held", "stat": "mean"}, {"field": "response_minutes", "stat": "mode"},
                {"field": "nope", "stat": "mean"}):
        with pytest.raises(Invalid):
            parse_indicator({**base, "aggregate": bad})
    with pytest.raises(Invalid):
        parse_indicator({**base, "unit": "%", "denominator": {"source": "consults", "where": []},
                         "aggregate": {"field": "response_minutes", "stat": "mean"}})


def test_the_satisfaction_sms_has_a_defined_text_and_goes_only_with_sms_consent(app, world):
    from app.consult import notices
    from app.consult.models import Consult
    from app.core.db import session, unit_of_work
    from connectors.notify.models import OutboxMessage
    from connectors.notify.services import set_consent
    w = world
    cid = stored_consult(app, w["resident"], w["village"].user.id)
    with app.app_context():
        with unit_of_work() as s:                                 # no SMS consent: nothing queued, the record says so
            assert notices.satisfaction_sms(s.get(Consult, cid)) is None
        assert session().scalars(select(OutboxMessage)).all() == []
        assert "电话回访" in session().get(Consult, cid).log[-1]["text"]
        set_consent(w["resident"], "sms", granted=True, source="test")
        with unit_of_work() as s:
            msg = notices.satisfaction_sms(s.get(Consult, cid))
        assert msg is not None and msg.template_code == "SMS_CONSULT_SATISFACTION"
        text = notices.render_sms(msg.template_code, msg.params)
        assert "${" not in text and "HZ-T" in text and "回复数字1-5" in text and "王建国" in text
        assert len(text) <= 140                                  # two SMS segments at most
        assert "已发送满意度回访短信" in session().get(Consult, cid).log[-1]["text"]


def test_a_live_room_closes_by_itself_after_the_maximum_duration(app, world, monkeypatch):
    monkeypatch.setenv("YGT_LIVE_MAX_MINUTES", "120")
    w = world
    c = _invited(w, device_ids=["MON-BED-9"])
    _schedule(w, c, w["chief"])
    room_url = f"/api/v1/live/rooms/consult/{c['id']}"
    assert w["chief"].get(room_url).status_code == 200
    tick(app, days=100 / 1440)                                      # 100 minutes: still open
    assert w["chief"].get(room_url).status_code == 200
    tick(app, days=21 / 1440)                                       # 121 minutes: the scheduler closes it
    assert w["chief"].get(room_url).status_code == 403
    assert w["village"].get(room_url).status_code == 403
    d = consult(w["village"], c["id"])
    assert d["room"]["status"] == "closed" and d["status"] == "scheduled"        # the consult itself goes on
    assert any("自动关闭" in e["text"] for e in d["timeline"])
    with app.app_context():
        from app.core.errors import Forbidden
        from app.live import services as live
        with pytest.raises(Forbidden):
            live.record_vital("MON-BED-9", "8867-4", 80, clock.now())
    # a reassignment after the room expired goes on without reopening it
    assert w["supervisor"].post(f"/api/v1/consults/{c['id']}/reassign", json={"reason": "专家临时外出"}).status_code == 200
    complete(w["supervisor"], step(w["supervisor"], "assign_experts"),
             {"lead_expert": w["assoc"].user.id, "slot": clock.local(clock.now()).isoformat()})
    assert consult(w["assoc"], c["id"])["status"] == "scheduled"
