"""The resident portal API (/api/portal/v1, issue 21): binding by SMS code (development sink) and by the village
doctor's QR, the lockout after five wrong codes, resident-scoped tokens (another resident's item → 404), consent per
purpose and channel (revocation stops a reminder at once), family proxies (approved, audited, revocable) and the home
reading the village doctor sees labelled 患者自测."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry

P = "/api/portal/v1"


def _last_code(app, phone_hint_tail: str = "") -> str:
    with app.app_context():
        from connectors.sms.gateway import dev_messages
        text = dev_messages(limit=1)[0].text
    return re.search(r"(\d{6})", text).group(1)


def _bind(app, client, resident) -> dict:
    started = client.post(f"{P}/bind/sms", json={"id_number": resident["id_number"], "name": resident["name"]})
    assert started.status_code == 202, started.json
    assert re.fullmatch(r"1\d\d\*{4}\d{4}", started.json["phone_hint"]) and started.json["dev_inbox"] is True
    verified = client.post(f"{P}/bind/sms/verify", json={"id_number": resident["id_number"],
                                                          "name": resident["name"], "code": _last_code(app)})
    assert verified.status_code == 200, verified.json
    return {"X-Portal-Token": verified.json["token"]}


def _consent(client, headers, purpose="health_data", channel="portal", granted=True):
    done = client.post(f"{P}/consents", headers=headers,
                       json={"purpose": purpose, "channel": channel, "granted": granted})
    assert done.status_code == 201, done.json
    return done.json


def _audits(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        from app.core.db import session
        rows = list(session().scalars(select(AuditEntry).where(AuditEntry.action == action)
                                      .order_by(AuditEntry.id)))
        session().expunge_all()
        return rows


@pytest.fixture()
def wang(make_resident):
    return make_resident(name="王建国")


def test_bind_by_sms_then_consent_then_plan_and_readings(app, client, wang):
    headers = _bind(app, client, wang)
    session = client.get(f"{P}/session", headers=headers)
    assert session.json == {"resident_name": "王建国", "proxy": None, "consent_needed": True}
    refused = client.get(f"{P}/plan", headers=headers)
    assert refused.status_code == 403 and refused.json["code"] == "consent_required"
    _consent(client, headers)
    plan = client.get(f"{P}/plan", headers=headers)
    assert plan.status_code == 200 and plan.json["resident_name"] == "王建国"
    assert client.get(f"{P}/consults", headers=headers).json == {"items": []}
    assert client.get(f"{P}/readings", headers=headers).json["items"] == []
    reads = _audits(app, "portal.read")
    assert [(r.object_type, r.object_id, r.actor) for r in reads][-2:] == [
        ("portal_consults", str(wang["id"]), f"portal:resident:{wang['id']}"),
        ("portal_readings", str(wang["id"]), f"portal:resident:{wang['id']}")]


def test_without_a_token_the_portal_answers_401(client):
    assert client.get(f"{P}/plan").json["code"] == "portal_login_required"
    bad = client.get(f"{P}/plan", headers={"X-Portal-Token": "ygtp_nothing"})
    assert bad.status_code == 401 and bad.json["code"] == "invalid_portal_token"


def test_a_wrong_name_and_an_unknown_number_answer_alike(client, wang, new_id_number):
    wrong_name = client.post(f"{P}/bind/sms", json={"id_number": wang["id_number"], "name": "李秀英"})
    unknown = client.post(f"{P}/bind/sms", json={"id_number": new_id_number(), "name": "王建国"})
    assert wrong_name.status_code == unknown.status_code == 404
    assert wrong_name.json["code"] == unknown.json["code"] == "resident_not_matched"


def test_five_wrong_codes_lock_binding_even_for_the_right_code(app, client, wang):
    assert client.post(f"{P}/bind/sms", json={"id_number": wang["id_number"], "name": "王建国"}).status_code == 202
    right = _last_code(app)
    wrong = "000000" if right != "000000" else "111111"
    answers = [client.post(f"{P}/bind/sms/verify", json={"id_number": wang["id_number"], "name": "王建国",
                                                          "code": wrong}) for _ in range(5)]
    assert [a.json["code"] for a in answers] == ["wrong_code"] * 4 + ["binding_locked"]
    assert [a.json["details"].get("remaining") for a in answers[:4]] == [4, 3, 2, 1]
    assert answers[4].status_code == 429 and answers[4].json["details"]["minutes"] == 30
    locked = client.post(f"{P}/bind/sms/verify", json={"id_number": wang["id_number"], "name": "王建国",
                                                        "code": right})
    assert locked.status_code == 429 and locked.json["code"] == "binding_locked"
    again = client.post(f"{P}/bind/sms", json={"id_number": wang["id_number"], "name": "王建国"})
    assert again.json["code"] == "binding_locked"
    with app.app_context():
        from app.core import clock
        clock.advance(timedelta(minutes=31))
    try:
        assert client.post(f"{P}/bind/sms", json={"id_number": wang["id_number"],
                                                  "name": "王建国"}).status_code == 202
        ok = client.post(f"{P}/bind/sms/verify", json={"id_number": wang["id_number"], "name": "王建国",
                                                        "code": _last_code(app)})
        assert ok.status_code == 200
    finally:
        with app.app_context():
            clock.advance(timedelta(minutes=-31))
    assert len(_audits(app, "portal.bind_locked")) == 1


def test_a_code_is_used_once_and_a_resend_waits_a_minute(app, client, wang):
    body = {"id_number": wang["id_number"], "name": "王建国"}
    client.post(f"{P}/bind/sms", json=body)
    assert client.post(f"{P}/bind/sms", json=body).json["code"] == "sms_too_soon"
    code = _last_code(app)
    assert client.post(f"{P}/bind/sms/verify", json=body | {"code": code}).status_code == 200
    reuse = client.post(f"{P}/bind/sms/verify", json=body | {"code": code})
    assert reuse.status_code == 422 and reuse.json["code"] == "code_expired"


def test_one_residents_token_never_reaches_another_residents_items(app, client, make_resident, wang):
    li = make_resident(name="李秀英", sex="F", phone="13900005678")
    headers_wang, headers_li = _bind(app, client, wang), _bind(app, client, li)
    _consent(client, headers_wang)
    _consent(client, headers_li)
    with app.app_context():
        from app.education import services as education
        item = education.list_items(disease="htn")[0]
        push_li = education.push(item.id, li["id"], reason="test", pushed_by="system", dedupe_key="t:li")
    mine = client.get(f"{P}/education/{push_li}", headers=headers_li)
    assert mine.status_code == 200 and mine.json["read_at"]
    theirs = client.get(f"{P}/education/{push_li}", headers=headers_wang)
    assert theirs.status_code == 404
    assert client.get(f"{P}/education", headers=headers_wang).json["items"] == []
    # a home reading of one is never in the other's list
    at = datetime.now(UTC).isoformat()
    assert client.post(f"{P}/readings", headers=headers_li, json={"measured_at": at, "sbp": 150, "dbp": 92}
                       ).status_code == 201
    assert client.get(f"{P}/readings", headers=headers_wang).json["items"] == []
    # another resident's family member cannot be decided
    proxy = client.post(f"{P}/proxy/request", json={"id_number": li["id_number"], "name": "李秀英",
                                                    "proxy_name": "张强", "relation": "子女",
                                                    "proxy_phone": "13700001111"})
    client.post(f"{P}/proxy/verify", json={"proxy_id": proxy.json["proxy_id"], "code": _last_code(app)})
    other = client.post(f"{P}/proxies/{proxy.json['proxy_id']}/decision", headers=headers_wang,
                        json={"action": "approve"})
    assert other.status_code == 404


def test_a_home_reading_reaches_the_village_doctor_labelled_self(app, client, login_as, wang):
    headers = _bind(app, client, wang)
    _consent(client, headers)
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    up = client.post(f"{P}/readings", headers=headers, json={"id": "r-1", "measured_at": at, "sbp": 148,
                                                             "dbp": 91, "pulse": 76})
    assert up.status_code == 201, up.json
    assert client.post(f"{P}/readings", headers=headers, json={"id": "r-1", "measured_at": at, "sbp": 148,
                                                               "dbp": 91, "pulse": 76}).status_code == 200
    bad = client.post(f"{P}/readings", headers=headers, json={"measured_at": at, "sbp": 148})
    assert bad.status_code == 422
    doctor = login_as("village_doctor", org="C01T01V01")
    seen = doctor.get(f"/api/v1/residents/{wang['id']}/observations").json["items"]
    assert {(o["code"], o["value"], o["source_label"]) for o in seen} == {
        ("8480-6", 148, "患者自测"), ("8462-4", 91, "患者自测"), ("8867-4", 76, "患者自测")}
    mine = client.get(f"{P}/readings", headers=headers).json["items"]
    assert {(r["kind"], r["origin"], r["origin_label"]) for r in mine} == {
        ("sbp", "self", "自测"), ("dbp", "self", "自测"), ("pulse", "self", "自测")}


def test_revoking_reminder_consent_stops_the_next_reminder_at_once(app, client, make_user, wang):
    headers = _bind(app, client, wang)
    _consent(client, headers)
    patient = make_user("patient", resident_id=wang["id"])
    _consent(client, headers, "reminder", "app", True)
    _consent(client, headers, "reminder", "sms", True)
    with app.app_context():
        from app.education import services as education
        from app.notifications.models import Notification
        from connectors.notify.services import has_consent
        items = [i.id for i in education.list_items(disease="htn")]
        education.push(items[0], wang["id"], reason="t", pushed_by="system", dedupe_key="t:1")
        from app.core.db import session
        told = session().scalars(select(Notification).where(Notification.user_id == patient.id)).all()
        assert [n.kind for n in told] == ["education"]
        assert has_consent(wang["id"], "sms")
        session().rollback()
    _consent(client, headers, "reminder", "app", False)
    _consent(client, headers, "reminder", "sms", False)
    with app.app_context():
        from app.follow_up.reminders import patient_consents
        assert patient_consents(wang["id"]) is False
        assert not has_consent(wang["id"], "sms")
        education.push(items[1], wang["id"], reason="t", pushed_by="system", dedupe_key="t:2")
        after = session().scalars(select(Notification).where(Notification.user_id == patient.id)).all()
        assert [n.kind for n in after] == ["education"]           # the second push told nobody
        session().rollback()
    history = client.get(f"{P}/consents", headers=headers).json["history"]
    assert [(h["purpose"], h["channel"], h["granted"]) for h in history[:2]] == [
        ("reminder", "sms", False), ("reminder", "app", False)]
    assert {h["version"] for h in history} == {"2026.12-v1"}


def test_a_child_under_14_needs_a_guardian(app, client, make_resident):
    from datetime import date
    child = make_resident(name="王小明", born=date(2018, 5, 1), phone="13600002222")
    headers = _bind(app, client, child)
    refused = client.post(f"{P}/consents", headers=headers,
                          json={"purpose": "health_data", "channel": "portal", "granted": True})
    assert refused.status_code == 422 and refused.json["code"] == "guardian_required"
    ok = client.post(f"{P}/consents", headers=headers, json={
        "purpose": "health_data", "channel": "portal", "granted": True, "decided_by": "guardian",
        "guardian_name": "王建国", "guardian_relation": "父亲"})
    assert ok.status_code == 201 and ok.json["guardian_needed"] is True
    assert ok.json["history"][0]["guardian_name"] == "王建国"


def test_family_proxy_waits_for_approval_is_audited_and_stops_when_revoked(app, client, wang):
    resident = _bind(app, client, wang)
    _consent(client, resident)
    asked = client.post(f"{P}/proxy/request", json={"id_number": wang["id_number"], "name": "王建国",
                                                    "proxy_name": "王丽", "relation": "子女",
                                                    "proxy_phone": "13700001234"})
    assert asked.status_code == 202 and asked.json["phone_hint"] == "137****1234"
    wrong = client.post(f"{P}/proxy/verify", json={"proxy_id": asked.json["proxy_id"], "code": "12345x"})
    assert wrong.json["code"] == "wrong_code"
    got = client.post(f"{P}/proxy/verify", json={"proxy_id": asked.json["proxy_id"], "code": _last_code(app)})
    assert got.status_code == 200 and got.json["proxy"]["status"] == "pending"
    family = {"X-Portal-Token": got.json["token"]}
    waiting = client.get(f"{P}/plan", headers=family)
    assert waiting.status_code == 403 and waiting.json["code"] == "proxy_pending"
    listed = client.get(f"{P}/proxies", headers=resident).json["items"]
    assert [(p["name"], p["relation"], p["status"]) for p in listed] == [("王丽", "子女", "pending")]
    approve = client.post(f"{P}/proxies/{listed[0]['id']}/decision", headers=resident, json={"action": "approve"})
    assert approve.status_code == 200 and approve.json["status"] == "approved"
    assert client.get(f"{P}/plan", headers=family).status_code == 200
    proxy_reads = [a for a in _audits(app, "portal.read") if a.actor == f"portal:proxy:{listed[0]['id']}"]
    assert [(a.object_type, a.details) for a in proxy_reads] == [("portal_plan", {"proxy_id": listed[0]["id"]})]
    # a family member cannot change consents or other family members
    assert client.post(f"{P}/consents", headers=family, json={"purpose": "reminder", "channel": "sms",
                                                              "granted": True}).json["code"] == "proxy_not_allowed"
    assert client.get(f"{P}/proxies", headers=family).json["code"] == "proxy_not_allowed"
    revoke = client.post(f"{P}/proxies/{listed[0]['id']}/decision", headers=resident, json={"action": "revoke"})
    assert revoke.json["status"] == "revoked"
    gone = client.get(f"{P}/plan", headers=family)
    assert gone.status_code == 401 and gone.json["code"] == "proxy_revoked"
    again = client.post(f"{P}/proxies/{listed[0]['id']}/decision", headers=resident, json={"action": "approve"})
    assert again.status_code == 409 and again.json["code"] == "proxy_state"


def test_the_village_doctor_qr_binds_once_and_only_in_scope(app, client, login_as, wang):
    doctor = login_as("village_doctor", org="C01T01V01")
    issued = doctor.post(f"{P}/staff/residents/{wang['id']}/qr")
    assert issued.status_code == 201 and issued.json["url"].endswith(f"/portal/qr/{issued.json['code']}")
    assert issued.json["svg"].startswith("<svg")
    outsider = login_as("village_doctor", org="C01T02V01")
    assert outsider.post(f"{P}/staff/residents/{wang['id']}/qr").status_code == 404
    bound = client.post(f"{P}/bind/qr", json={"code": issued.json["code"]})
    assert bound.status_code == 200 and bound.json["resident_name"] == "王建国"
    used = client.post(f"{P}/bind/qr", json={"code": issued.json["code"]})
    assert used.status_code == 422 and used.json["code"] == "code_expired"


def test_a_signed_in_patient_account_opens_the_portal(app, client, make_user, wang):
    patient = make_user("patient", resident_id=wang["id"])
    with app.app_context():
        from app.auth.services import create_token
        _, raw = create_token(patient.id, name="t")
    got = client.post(f"{P}/bind/login", headers={"Authorization": f"Bearer {raw}"})
    assert got.status_code == 200 and got.json["resident_name"] == "王建国"
    assert client.get(f"{P}/session", headers={"X-Portal-Token": got.json["token"]}).status_code == 200


def test_booking_and_survey(app, client, wang):
    headers = _bind(app, client, wang)
    _consent(client, headers)
    from app.core import clock
    with app.app_context():
        tomorrow = clock.today() + timedelta(days=1)
    booked = client.post(f"{P}/bookings", headers=headers, json={"slot_on": tomorrow.isoformat(), "half_day": "am"})
    assert booked.status_code == 201 and booked.json["status"] == "requested"
    assert client.get(f"{P}/plan", headers=headers).json["booking"]["slot_on"] == tomorrow.isoformat()
    past = client.post(f"{P}/bookings", headers=headers, json={"slot_on": "2020-01-01", "half_day": "am"})
    assert past.status_code == 422 and past.json["code"] == "invalid_slot"
    answer = {"code": "service_2026", "overall": 5, "answers": {"attitude": 5, "timely": 4}}
    assert client.post(f"{P}/surveys", headers=headers, json=answer).status_code == 201
    assert client.post(f"{P}/surveys", headers=headers, json=answer).json["code"] == "survey_answered"


def test_the_resident_asks_for_a_contract_and_sees_it_pending(app, client, wang):
    from tests.contract_support import deploy_contract_models
    deploy_contract_models(app)
    headers = _bind(app, client, wang)
    _consent(client, headers)
    before = client.get(f"{P}/contract", headers=headers)
    assert before.status_code == 200 and before.json == {"active": None, "pending": None, "can_request": True}
    asked = client.post(f"{P}/contract", headers=headers, json={})
    assert asked.status_code == 201, asked.json
    assert asked.json["pending"]["status_label"] and asked.json["can_request"] is False
    again = client.post(f"{P}/contract", headers=headers, json={})
    assert again.status_code == 409 and again.json["code"] == "contract_in_progress"
    assert "portal_contract" in [a.object_type for a in _audits(app, "portal.read")]


def test_the_risk_level_is_shown_only_with_its_plain_language_explanation(app, client, wang):
    from app.care_plans.models import CarePlan
    from app.core import clock
    from app.core.db import unit_of_work
    with app.app_context(), unit_of_work() as s:
        now = clock.now()
        s.add(CarePlan(resident_id=wang["id"], disease="htn", risk_level="HIGH", status="active", created_at=now,
                       updated_at=now))
        s.add(CarePlan(resident_id=wang["id"], disease="dm", risk_level="UNGRADED", status="active", created_at=now,
                       updated_at=now))
    headers = _bind(app, client, wang)
    _consent(client, headers)
    plan = client.get(f"{P}/plan", headers=headers).json
    assert plan["risks"] == [{"disease": "htn", "disease_name": "高血压", "level_label": "高危",
                              "explanation": plan["risks"][0]["explanation"]}]
    text = plan["risks"][0]["explanation"]
    assert "脑卒中" in text and "HIGH" not in text
    # a level the table does not explain is not shown at all (no raw grade)
    assert "UNGRADED" not in str(plan)


def test_booking_offers_the_village_clinics_slots_and_refuses_a_full_or_closed_one(app, client, make_resident,
                                                                                   monkeypatch):
    """Issue 21.1 (book the next follow-up slot): the calendar lists the clinic's follow-up half-days for two weeks
    with the places left; the last place goes to one resident only, a closed half-day is refused."""
    monkeypatch.setenv("YGT_BOOKING_CAPACITY", "1")
    monkeypatch.setenv("YGT_CLINIC_HALF_DAYS", "mon-am,tue-am,wed-am,thu-am,fri-am")
    first = _bind(app, client, make_resident(name="王建国"))
    _consent(client, first)
    calendar = client.get(f"{P}/bookings/slots", headers=first)
    assert calendar.status_code == 200, calendar.json
    slots = calendar.json["items"]
    assert slots and all(s["half_day"] == "am" and s["capacity"] == 1 and s["available"] == 1 for s in slots)
    assert {date.fromisoformat(s["slot_on"]).weekday() for s in slots} <= {0, 1, 2, 3, 4}
    assert all(s["label"].endswith("上午") for s in slots)
    slot = slots[0]
    booked = client.post(f"{P}/bookings", headers=first, json={"slot_on": slot["slot_on"], "half_day": "am"})
    assert booked.status_code == 201, booked.json
    again = client.post(f"{P}/bookings", headers=first, json={"slot_on": slot["slot_on"], "half_day": "am"})
    assert again.status_code == 201          # moving one's own booking onto the same slot is not "full"

    second = _bind(app, client, make_resident(name="李秀英", sex="F", phone="13800005678"))
    _consent(client, second)
    theirs = client.get(f"{P}/bookings/slots", headers=second).json["items"]
    assert next(s for s in theirs if s["slot_on"] == slot["slot_on"])["available"] == 0
    full = client.post(f"{P}/bookings", headers=second, json={"slot_on": slot["slot_on"], "half_day": "am"})
    assert full.status_code == 409 and full.json["code"] == "slot_full"
    closed = client.post(f"{P}/bookings", headers=second, json={"slot_on": slot["slot_on"], "half_day": "pm"})
    assert closed.status_code == 422 and closed.json["code"] == "slot_closed"
    with app.app_context():
        from app.core.db import session
        from app.portal.models import PortalBooking
        assert len(session().scalars(select(PortalBooking).where(PortalBooking.status == "requested")).all()) == 1
