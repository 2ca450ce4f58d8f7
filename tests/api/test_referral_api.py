"""Two-way referral stories through the API: routine up → accepted → arrival → result → down → first follow-up;
the emergency path; rejection and redirect; no-show; out-of-county with approval; bad input and faults."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core import clock, ratelimit
from tests.referral_support import (
    add_department,
    arrival,
    catalogue,
    complete,
    count,
    deploy_referral_models,
    make_resident,
    one,
    open_tasks,
    referral,
)
from tests.test_follow_up_support import tick


@pytest.fixture()
def world(app, county, login_as):
    """Cardiology (C01D01) and endocrinology (C01D02) at the county hospital; township C01T01 manages general
    medicine; an out-of-county 医保定点 hospital offers PCI."""
    deploy_referral_models(app)
    add_department(app, "C01D02", "内分泌科")
    add_department(app, "C01D09", "急诊科")
    add_department(app, "C01D03", "老年病科")
    catalogue(app, ("C01D01", "cardiology"), ("C01D03", "cardiology"), ("C01D02", "endocrinology"), ("C01D09", "emergency"),
              ("C01T01", "general_medicine"), (None, "stroke", "市第一人民医院"),
              ("C01D02", "nephrology", "", False, "透析机检修至月底"))
    with app.app_context():
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=20, burst=100).reset()
    return {"resident": make_resident(app), "village": login_as("village_doctor", org="C01T01V01"),
            "cardio": login_as("county_specialist", org="C01D01"),
            "endo": login_as("county_specialist", org="C01D02"),
            "ed": login_as("county_specialist", org="C01D09"),
            "geriatric": login_as("county_specialist", org="C01D03"),
            "township": login_as("township_doctor", org="C01T01"),
            "supervisor": login_as("supervisor", org="C01"), "admin": login_as("county_admin", org="C01")}


@pytest.fixture()
def his(app, county):
    from app.auth.services import create_client
    with app.app_context():
        client, secret = create_client("县人民医院 HIS")
    return {"client_id": client.client_id, "secret": secret}


def _refer(w, **extra) -> dict:
    body = {"resident_id": w["resident"], "disease": "htn", "reason": "两次随访血压控制不满意", **extra}
    resp = w["village"].post("/api/v1/referrals", json=body)
    assert resp.status_code == 201, resp.json
    return resp.json


def _send(w, r: dict, target: str = "C01D01") -> None:
    task = one(w["village"], "fill_referral_form")
    complete(w["village"], task, {"target_org": target, "reason": r["reason"], "chief_complaint": "头晕2周",
                                  "consent": True})


def _book(w, api, when) -> None:
    task = one(api, "book_appointment")
    complete(api, task, {"appointment_at": when.isoformat(), "place": "心内科门诊3诊室"})


def test_routine_up_referral_closes_the_loop_down_to_the_first_follow_up(app, client, world, his):
    from app.notifications.models import Notification
    w = world
    r = _refer(w)
    assert r["referral_no"].startswith("SZ") and r["status"] == "drafting"
    two_week = open_tasks(w["village"], "two_week_follow_up")
    assert len(two_week) == 1                                      # exists before the county ever replies
    steps = {t["element_id"]: t for t in referral(w["village"], r["id"])["tasks"]}   # the page links to them
    assert {"fill_referral_form", "two_week_follow_up"} <= set(steps) and steps["two_week_follow_up"]["due_at"]
    assert referral(w["cardio"], r["id"])["tasks"] == []                             # nothing for the receiver yet
    _send(w, r)
    assert referral(w["village"], r["id"])["status"] == "offered"
    assert open_tasks(w["endo"], "review_referral") == [] or all(
        t["org_code"] == "C01D01" for t in open_tasks(w["endo"], "review_referral"))
    groups = w["endo"].get("/api/v1/tasks?view=groups").json["items"]
    assert not [t for t in groups if t["element_id"] == "review_referral"]     # another department's queue
    mine = w["cardio"].get("/api/v1/tasks?view=groups").json["items"]
    review = next(t for t in mine if t["element_id"] == "review_referral")
    assert w["cardio"].post(f"/api/v1/tasks/{review['id']}/claim").status_code == 200
    assert w["cardio"].post(f"/api/v1/referrals/{r['id']}/accept", json={"visit_mode": "门诊"}).status_code == 200
    _book(w, w["cardio"], clock.now() + timedelta(days=2))
    assert referral(w["cardio"], r["id"])["status"] == "appointed"
    resp = arrival(client, his, {"referral_no": r["referral_no"], "visit_no": "MZ001"}, "adt-1")
    assert resp.status_code == 200, resp.json
    again = arrival(client, his, {"referral_no": r["referral_no"], "visit_no": "MZ001"}, "adt-2")
    assert again.status_code == 200 and again.json["first"] is False        # a second arrival changes nothing
    task = one(w["cardio"], "return_result")
    complete(w["cardio"], task, {"diagnosis": "原发性高血压3级 很高危", "plan": "氨氯地平+缬沙坦",
                                 "advice": "每2周随访血压，目标<140/90", "down_referral": True})
    done = referral(w["village"], r["id"])
    assert done["status"] == "completed" and done["result_at"] and len(done["children"]) == 1
    down = done["children"][0]
    assert down["referral_no"].startswith("XZ") and down["to_org_code"] == "C01T01V01"
    task = one(w["cardio"], "fill_down_referral_form")
    complete(w["cardio"], task, {"discharge_diagnosis": "原发性高血压3级", "long_term_plan": "氨氯地平5mg qd",
                                 "diagnosis_clear": True, "plan_clear": True, "condition_stable": True})
    task = one(w["village"], "receive_down_referral")
    complete(w["village"], task, {"accepted": True})
    first = one(w["village"], "first_follow_up")
    assert first["due_at"][:10] <= clock.date_of(clock.now() + timedelta(days=14)).isoformat()
    complete(w["village"], first, {"visit_date": clock.today().isoformat(), "sbp": 136, "dbp": 84,
                                   "condition": "稳定"})
    assert referral(w["village"], down["id"])["status"] == "completed"
    complete(w["village"], one(w["village"], "two_week_follow_up"), {"outcome": "到位", "diagnosis_confirmed": True})
    with app.app_context():
        told = {n.kind for n in db_all(Notification)}
    assert {"referral_offered", "referral_accepted", "referral_appointed", "referral_result",
            "referral_down_offered"} <= told
    with app.app_context():                                          # each notice once per person and event
        from collections import Counter

        from connectors.notify.models import OutboxMessage
        per = Counter((n.user_id, n.kind, n.link) for n in db_all(Notification) if n.kind.startswith("referral_"))
        sms = Counter(m.idempotency_key for m in db_all(OutboxMessage)
                      if (m.idempotency_key or "").startswith(f"referral:{r['id']}:"))
    assert per and set(per.values()) == {1}
    assert {f"referral:{r['id']}:{e}:patient" for e in ("offered", "accepted", "appointed", "result")} <= set(sms)
    assert set(sms.values()) == {1}
    for kind in ("referral_form", "receipt"):
        pdf = w["village"].get(f"/api/v1/referrals/{r['id']}/documents/{kind}.pdf")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert w["village"].get(f"/api/v1/referrals/{down['id']}/documents/down_form.pdf").status_code == 200


def db_all(model):
    from sqlalchemy import select

    from app.core import db
    return list(db.session().scalars(select(model)))


def test_an_emergency_notifies_the_emergency_department_at_once_and_skips_acceptance(app, world):
    from app.notifications.models import Notification
    from app.referral import services
    w = world
    with app.app_context():
        row = services.request_referral(resident_id=w["resident"], source="follow_up", trigger="emergency",
                                        disease="htn", reason="SBP 186 伴剧烈头痛", source_key="follow_up_visit:9")
        rid = row.id
    assert count(app, Notification, user_id=w["ed"].user.id, kind="referral_emergency") == 1
    r = referral(w["ed"], rid)
    assert r["urgency"] == "emergency" and r["status"] == "accepted" and r["to_org_code"] == "C01D09"
    assert open_tasks(w["ed"], "review_referral") == []
    handling = one(w["village"], "emergency_handling")
    assert handling["due_at"] is not None
    with app.app_context():
        again = services.request_referral(resident_id=w["resident"], source="follow_up", trigger="emergency",
                                          disease="htn", source_key="follow_up_visit:9")
        assert again.id == rid                                         # the same request is one referral
    complete(w["village"], handling, {"transport": "120救护车", "measures": ["吸氧"]})
    assert len(open_tasks(w["ed"], "await_arrival")) == 0       # receive tasks are not inbox tasks
    assert referral(w["ed"], rid)["status"] == "accepted"


def test_rejection_needs_a_reason_then_the_sender_redirects_and_the_other_department_accepts(app, world):
    w = world
    r = _refer(w, disease="dm", reason="血糖3个月未达标")
    _send(w, r, target="C01D02")
    bad = w["endo"].post(f"/api/v1/referrals/{r['id']}/reject", json={})
    assert bad.status_code == 400 and bad.json["code"] == "reason_required"
    ok = w["endo"].post(f"/api/v1/referrals/{r['id']}/reject", json={"reason": "床位已满", "note": "下周再转"})
    assert ok.status_code == 200 and ok.json["status"] == "rejected"
    revise = one(w["village"], "revise_referral")
    complete(w["village"], revise, {"action": "retarget", "target_org": "C01D01"})   # cardiology: no endocrinology
    again = one(w["village"], "revise_referral")
    assert "内分泌" in again["instructions"] or "能力目录" in again["instructions"]
    complete(w["village"], again, {"action": "cancel", "note": "患者改为自行前往市医院"})
    assert referral(w["village"], r["id"])["status"] == "cancelled"


def test_the_receiving_department_redirects_to_another_capable_department(app, world):
    w = world
    r = _refer(w)
    _send(w, r)
    resp = w["cardio"].post(f"/api/v1/referrals/{r['id']}/redirect", json={"to_org_code": "C01D03"})
    assert resp.status_code == 200, resp.json
    assert referral(w["village"], r["id"])["to_org_code"] == "C01D03"
    assert w["geriatric"].post(f"/api/v1/referrals/{r['id']}/accept", json={}).status_code == 200
    assert referral(w["village"], r["id"])["status"] == "accepted"


def test_a_redirect_to_a_department_without_the_capability_is_refused_with_the_catalogue_reason(app, world):
    w = world
    r = _refer(w, disease="dm", reason="血糖控制差")
    _send(w, r, target="C01D02")
    resp = w["endo"].post(f"/api/v1/referrals/{r['id']}/redirect", json={"to_org_code": "C01D01"})
    assert resp.status_code == 422 and resp.json["code"] == "capability_unavailable"
    paused = w["village"].post("/api/v1/referrals", json={"resident_id": w["resident"], "reason": "肾功能异常",
                                                          "to_org_code": "C01D02", "capability": "nephrology"})
    assert paused.status_code == 422 and "透析机检修" in paused.json["message"]


def test_no_show_after_the_grace_period_asks_the_sender_to_verify(app, world):
    w = world
    r = _refer(w)
    _send(w, r)
    w["cardio"].post(f"/api/v1/referrals/{r['id']}/accept", json={})
    _book(w, w["cardio"], clock.now() + timedelta(days=1))
    tick(app, 5)                                                     # appointment + 3 days grace passed
    task = one(w["village"], "verify_no_show")
    complete(w["village"], task, {"outcome": "不到位", "reason": "患者外出务工"})
    assert referral(w["village"], r["id"])["status"] == "no_show"


def test_out_of_county_referral_needs_approval_and_a_filing_number(app, world):
    w = world
    resp = w["village"].post("/api/v1/referrals", json={"resident_id": w["resident"], "reason": "疑似卒中后遗症评估",
                                                         "trigger": "manual", "capability": "stroke"})
    assert resp.status_code == 201, resp.json
    r = resp.json
    task = one(w["village"], "fill_referral_form")
    complete(w["village"], task, {"reason": r["reason"], "consent": True})
    assert referral(w["village"], r["id"])["status"] == "pending_approval"
    approve = one(w["supervisor"], "approve_out_of_county")
    complete(w["supervisor"], approve, {"approved": True, "hospital": "市第一人民医院", "filing_no": "YB2026-001",
                                        "opinion": "县内无卒中中心，同意转往市一院"})
    done = referral(w["village"], r["id"])
    assert done["out_of_county"] and done["status"] == "transferred_out"
    assert done["insurance_filing_no"] == "YB2026-001" and done["to_org_name"] == "市第一人民医院"


def test_scope_and_faults(app, client, world, his, login_as):
    w = world
    other = login_as("village_doctor", org="C01T02V01")
    resp = other.post("/api/v1/referrals", json={"resident_id": w["resident"], "reason": "x"})
    assert resp.status_code == 404
    r = _refer(w)
    assert other.get(f"/api/v1/referrals/{r['id']}").status_code == 404
    unknown = arrival(client, his, {"referral_no": "SZ20000101-9999"}, "adt-x")
    assert unknown.status_code == 404 and unknown.json["code"] == "unknown_referral_no"
    listed = w["admin"].get("/api/v1/referrals/unmatched-arrivals").json
    assert [a["referral_no"] for a in listed] == ["SZ20000101-9999"]


def _emergency_alerts(app, *users) -> tuple[list[int], list[int]]:
    """(inbox notifications, app pushes in the notification outbox) of kind referral_emergency per user."""
    from sqlalchemy import select

    from app.core import db
    from app.notifications.models import Notification
    from connectors.notify.models import OutboxMessage
    with app.app_context():
        told = [len(db.session().scalars(select(Notification).where(
            Notification.user_id == u.user.id, Notification.kind == "referral_emergency")).all()) for u in users]
        pushed = [len(db.session().scalars(select(OutboxMessage).where(
            OutboxMessage.channel == "app", OutboxMessage.recipient_type == "user",
            OutboxMessage.recipient_id == u.user.id, OutboxMessage.template_code == "APP_REFERRAL_EMERGENCY")).all())
            for u in users]
    return told, pushed


def test_a_follow_up_emergency_alerts_at_once_and_stays_open_until_arrival(app, client, world, his, login_as):
    """12.4: a 紧急转诊 classification starts `referral_up`, tells the township lead and the county emergency
    department at once (inbox + app push through the outbox) and shows as an open emergency on the patient record and
    the supervisor's overview until the patient arrives."""
    from tests.test_follow_up_support import htn_visit, local_today, plan_in_force, tick
    from tests.test_follow_up_support import one_task as one_visit
    w = world
    done = plan_in_force(app, login_as, w["resident"])
    tick(app, 24)
    complete(done["village"], one_visit(done["village"], "record_htn_visit_high_risk"),
             htn_visit(local_today(app), 186, 112))
    assert _emergency_alerts(app, w["township"], w["ed"]) == ([1, 1], [1, 1])
    listed = w["supervisor"].get("/api/v1/referrals?open_emergency=true").json["items"]
    assert len(listed) == 1 and listed[0]["resident_name"] == "王建国" and listed[0]["urgency_label"] == "紧急"
    assert listed[0]["instance_id"] is not None and listed[0]["to_org_code"] == "C01D09"
    record = w["township"].get(f"/api/v1/residents/{w['resident']}").json["summary"]
    assert [(e["referral_no"], e["urgency_label"]) for e in record["open_emergencies"]] == \
        [(listed[0]["referral_no"], "紧急")]
    assert arrival(client, his, {"referral_no": listed[0]["referral_no"], "visit_no": "JZ001"}, "adt-e").status_code == 200
    assert w["supervisor"].get("/api/v1/referrals?open_emergency=true").json["items"] == []
    assert w["township"].get(f"/api/v1/residents/{w['resident']}").json["summary"]["open_emergencies"] == []


def test_an_emergency_without_the_referral_model_alerts_at_once_and_starts_once_deployed(app, county, login_as):
    """Nothing clinical is only a row: with `referral_up` not deployed the emergency is still told at once, and the
    schedule starts the referral process as soon as the model is there (nobody told twice)."""
    from app.referral import services
    from tests.test_follow_up_support import tick
    add_department(app, "C01D09", "急诊科")
    catalogue(app, ("C01D09", "emergency"))
    resident = make_resident(app)
    township, ed = login_as("township_doctor", org="C01T01"), login_as("county_specialist", org="C01D09")
    supervisor = login_as("supervisor", org="C01")
    with app.app_context():
        row = services.request_referral(resident_id=resident, source="follow_up", trigger="emergency", disease="htn",
                                        reason="SBP 192 伴胸痛", source_key="follow_up_visit:77")
        assert (row.status, row.instance_id) == ("requested", None)
        rid = row.id
    assert _emergency_alerts(app, township, ed) == ([1, 1], [1, 1])
    assert [r["id"] for r in supervisor.get("/api/v1/referrals?open_emergency=true").json["items"]] == [rid]
    deploy_referral_models(app)
    tick(app)
    started = referral(supervisor, rid)
    assert started["instance_id"] is not None and started["status"] == "accepted"
    assert _emergency_alerts(app, township, ed) == ([1, 1], [1, 1])


def test_a_diabetes_down_referral_refreshes_the_care_plan_too(app, world):
    """The receipt asks for a care-plan revision for either chronic disease (a t2dm down-referral used to skip it)."""
    w = world
    resp = w["endo"].post("/api/v1/referrals/down", json={"resident_id": w["resident"], "disease": "t2dm",
                                                          "reason": "血糖平稳，出院回基层"})
    assert resp.status_code == 201, resp.json
    down = resp.json
    complete(w["endo"], one(w["endo"], "fill_down_referral_form"),
             {"discharge_diagnosis": "2型糖尿病", "long_term_plan": "二甲双胍0.5g tid", "diagnosis_clear": True,
              "plan_clear": True, "condition_stable": True})
    complete(w["village"], one(w["village"], "receive_down_referral"), {"accepted": True})
    assert referral(w["village"], down["id"])["follow_up"]["care_plan"] is not None


def test_an_external_system_requests_a_referral_by_signed_webhook_once(app, client, world, his):
    """HIS asks for an up-referral by ID number: `referral_up` starts like a doctor's request (the sender's 2-week
    follow-up included); a repeat of the same request_id answers the same referral; an unknown ID number or sending
    organisation is refused with a stable code, nothing half-made."""
    import random

    from app.referral.models import Referral
    from app.residents import idcard
    w = world
    id_number = idcard.generate(random.Random(7), area_code="330127", birth_date=date(1956, 3, 14), sex="M")
    body = {"id_number": id_number, "request_id": "HIS-REF-1", "reason": "门诊血压 176/104，要求上转心内科",
            "disease": "htn"}
    first = arrival(client, his, body, "req-1", message="referral_requested")
    assert first.status_code == 200, first.json
    again = arrival(client, his, body, "req-2", message="referral_requested")
    assert again.status_code == 200 and again.json["referral_id"] == first.json["referral_id"]
    made = referral(w["village"], first.json["referral_id"])
    assert made["referral_no"].startswith("SZ") and made["source"] == "external"
    assert len(open_tasks(w["village"], "two_week_follow_up")) == 1
    before = count(app, Referral)
    unknown = arrival(client, his, {**body, "request_id": "HIS-REF-2", "id_number": "330127199001011234"}, "req-3",
                      message="referral_requested")
    assert unknown.status_code == 422 and unknown.json["code"] in ("unknown_resident", "schema_error")
    no_org = arrival(client, his, {**body, "request_id": "HIS-REF-3", "from_org_code": "X99"}, "req-4",
                     message="referral_requested")
    assert no_org.status_code == 404 and no_org.json["code"] == "organization_not_found"
    assert count(app, Referral) == before


def test_the_senders_record_summary_is_for_the_receiving_department_while_active_and_audited(app, client, world, his):
    from app.audit.models import AuditEntry
    w = world
    r = _refer(w)
    _send(w, r)
    got = w["cardio"].get(f"/api/v1/referrals/{r['id']}/sender-summary")
    assert got.status_code == 200 and got.json["referral_no"] == r["referral_no"] and "record" in got.json
    assert count(app, AuditEntry, action="referral.summary_read") == 1
    other = w["endo"].get(f"/api/v1/referrals/{r['id']}/sender-summary")     # another department: not its referral
    assert other.status_code in (403, 404)
    w["cardio"].post(f"/api/v1/referrals/{r['id']}/accept", json={})
    _book(w, w["cardio"], clock.now() + timedelta(days=1))
    arrival(client, his, {"referral_no": r["referral_no"]}, "adt-s1")
    complete(w["cardio"], one(w["cardio"], "return_result"), {"diagnosis": "高血压2级", "plan": "继续原方案",
                                                              "down_referral": False})
    closed = w["cardio"].get(f"/api/v1/referrals/{r['id']}/sender-summary")
    assert closed.status_code == 403 and closed.json["code"] == "referral_closed"
    assert count(app, AuditEntry, action="referral.summary_read") == 1
