"""The training story through the API: plan → cohort start → approval → notice and answers → QR + geofence sign-in
(with refusals and a manual sign-in) → sign-out → materials → exam auto-marked, make-up marked late → summary →
credits on the transcript → summary PDF, sign-in sheet and registry export."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.core import clock
from tests.test_follow_up_support import complete, one_task
from tests.training_support import (
    VENUE,
    deploy_training,
    fire_timers,
    jpeg,
    near,
    pdf_bytes,
    session_body,
)


@pytest.fixture()
def people(app, login_as):
    deploy_training(app)
    return {
        "trainer": login_as("trainer", org="C01", username="trainer_c01"),
        "head": login_as("education_head", org="C01", username="kejiao_head"),
        "lecturer": login_as("county_specialist", org="C01D01", username="lecturer_zhang"),
        "t1": login_as("township_doctor", org="C01T01", username="doc_li"),
        "t2": login_as("township_doctor", org="C01T01", username="doc_wang"),
        "v1": login_as("village_doctor", org="C01T01V01", username="vd_chen"),
        "other": login_as("village_doctor", org="C01T02V01", username="vd_other"),
    }


def _tasks(api, element_id):
    resp = api.get("/api/v1/tasks?view=mine&per_page=100")
    assert resp.status_code == 200, resp.json
    return [t for t in resp.json["items"] if t["element_id"] == element_id]


def _scan(api, session_id, token, *, metres=20.0, accuracy=15.0, device="dev-1", action=None):
    lat, lon = near(*VENUE, metres)
    body = {"token": token, "lat": lat, "lon": lon, "accuracy_m": accuracy, "device_id": device}
    if action:
        body["action"] = action
    return api.post(f"/api/v1/training/sessions/{session_id}/sign-in", json=body)


def _code(api, session_id):
    resp = api.get(f"/api/v1/training/sessions/{session_id}/sign-in-code")
    assert resp.status_code == 200, resp.json
    return resp.json


def _upload(api, session_id, kind, name, content):
    return api.post(f"/api/v1/training/sessions/{session_id}/materials?kind={kind}",
                    data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def test_plan_to_transcript(app, people):
    trainer, head, t1, t2, v1 = people["trainer"], people["head"], people["t1"], people["t2"], people["v1"]
    start = (clock.now() + timedelta(days=3)).replace(microsecond=0)

    # -- the plan and its cohort start (dry run first) -----------------------------------------------------
    plan = trainer.post("/api/v1/training/plans", json={"year": start.year, "title": "2026年度县医院业务培训计划"})
    assert plan.status_code == 201, plan.json
    body = session_body(start, lecturer_user_id=people["lecturer"].user.id)
    row = trainer.post(f"/api/v1/training/plans/{plan.json['id']}/sessions", json=body)
    assert row.status_code == 201, row.json
    sid = row.json["id"]
    dry = trainer.post(f"/api/v1/training/plans/{plan.json['id']}/start", json={"dry_run": True})
    assert dry.json["would_start"] == 1 and dry.json["sessions"][0]["roster_size"] == 3
    assert trainer.get(f"/api/v1/training/sessions/{sid}").json["instance_id"] is None
    started = trainer.post(f"/api/v1/training/plans/{plan.json['id']}/start", json={"dry_run": False})
    assert started.json["started"] == 1
    again = trainer.post(f"/api/v1/training/plans/{plan.json['id']}/start", json={"dry_run": False})
    assert again.json["sessions"][0]["reason"] == "already_started"

    # -- approval by the 科教科 head, then the notice ---------------------------------------------------------
    approve = one_task(head, "approve_session")
    complete(head, approve, {"approved": True, "approval_comment": "同意"})
    assert trainer.get(f"/api/v1/training/sessions/{sid}").json["phase"] == "notified"
    with app.app_context():
        from app.core.db import session
        from app.notifications.models import Notification
        from connectors.notify.models import OutboxMessage
        sms = session().scalars(select(OutboxMessage).where(OutboxMessage.channel == "sms")).all()
        assert {m.recipient_id for m in sms} == {t1.user.id, t2.user.id, v1.user.id}
        notices = session().scalars(select(Notification).where(Notification.kind == "training_notice")).all()
        assert len(notices) == 3
    assert len(_tasks(t1, "confirm_enrolment")) == 1
    assert people["other"].get(f"/api/v1/training/sessions/{sid}").status_code == 404

    assert t1.post(f"/api/v1/training/sessions/{sid}/respond", json={"attend": True}).status_code == 200
    assert v1.post(f"/api/v1/training/sessions/{sid}/respond", json={"attend": True}).status_code == 200
    declined = t2.post(f"/api/v1/training/sessions/{sid}/respond", json={"attend": False, "decline_reason": "值班"})
    assert declined.json["response"] == "declined"
    assert _tasks(t1, "confirm_enrolment") == []
    # t2 changes their mind after answering: the answer is updated, no task is left
    assert t2.post(f"/api/v1/training/sessions/{sid}/respond", json={"attend": True}).json["response"] == "confirmed"

    # -- sign-in opens 30 minutes before the start ------------------------------------------------------------
    assert trainer.get(f"/api/v1/training/sessions/{sid}/sign-in-code").status_code == 409
    fire_timers(app, minutes=(start - clock.now()).total_seconds() / 60 - 20)
    assert trainer.get(f"/api/v1/training/sessions/{sid}").json["phase"] == "sign_in_open"
    code = _code(trainer, sid)
    assert code["svg"].startswith("<svg") and code["url"].endswith(code["token"])

    ok = _scan(t1, sid, code["token"])
    assert ok.status_code == 200, ok.json
    assert ok.json["sign_in_method"] == "qr" and not ok.json["late"] and ok.json["distance_m"] < 30
    assert _scan(t1, sid, code["token"]).json["signed_in_at"] == ok.json["signed_in_at"]   # one record

    far = _scan(v1, sid, code["token"], metres=900, device="dev-2")
    assert far.status_code == 422 and far.json["code"] == "outside_geofence"
    assert far.json["details"]["can_request_manual"] is True
    vague = _scan(v1, sid, code["token"], accuracy=800, device="dev-2")
    assert vague.json["code"] == "location_inaccurate"
    buddy = _scan(v1, sid, code["token"], device="dev-1")          # t1's phone signing in a colleague
    assert buddy.json["code"] == "device_already_used"
    forged = _scan(v1, sid, code["token"][:-2] + "zz", device="dev-2")
    assert forged.json["code"] == "sign_in_token_invalid"
    clock.advance(timedelta(seconds=75))
    stale = _scan(v1, sid, code["token"], device="dev-2")        # a photo of an old code
    assert stale.json["code"] == "sign_in_token_expired"

    help_ = v1.post(f"/api/v1/training/sessions/{sid}/help", json={"attempt_id": far.json["details"]["attempt_id"],
                                                                      "note": "GPS 在室内漂移"})
    assert help_.status_code == 200
    overview = trainer.get(f"/api/v1/training/sessions/{sid}/overview").json
    assert [r["code"] for r in overview["help_requests"]] == ["outside_geofence"]
    manual = trainer.post(f"/api/v1/training/sessions/{sid}/manual",
                          json={"user_id": v1.user.id, "reason": "室内定位漂移，本人在场",
                                "attempt_id": far.json["details"]["attempt_id"]})
    assert manual.status_code == 200 and manual.json["sign_in_method"] == "manual"
    assert manual.json["manual_by"] == "trainer_c01"

    # t2 arrives 40 minutes after the start: late
    clock.advance(start + timedelta(minutes=40) - clock.now())
    late = _scan(t2, sid, _code(trainer, sid)["token"], device="dev-3")
    assert late.json["late"] is True and late.json["late_minutes"] == 40

    # sign-out near the end; the trainer ends attendance
    clock.advance(start + timedelta(hours=3) - timedelta(minutes=5) - clock.now())
    token = _code(trainer, sid)["token"]
    assert _scan(t1, sid, token).json["signed_out_at"] is not None
    assert _scan(t2, sid, token, device="dev-3").json["signed_out_at"] is not None
    assert trainer.post(f"/api/v1/training/sessions/{sid}/end-attendance").status_code == 200
    roster = {r["user_id"]: r for r in trainer.get(f"/api/v1/training/sessions/{sid}/overview").json["roster"]}
    assert roster[t1.user.id]["attended_hours"] == 3, str(list(roster.values()))
    assert roster[v1.user.id]["attended_hours"] == 3          # vouched for by the trainer
    assert roster[t2.user.id]["attended_hours"] == 2          # 40 minutes missed: 75% present, in half hours

    # -- materials: refused before stored, then two photos, slides and the paper ------------------------------
    taken = start + timedelta(minutes=30)
    fake = _upload(trainer, sid, "slides", "课件.pdf", b"MZ\x90\x00 this is an exe")
    assert fake.status_code == 422 and fake.json["code"] == "unsupported_file_type"
    old_photo = _upload(trainer, sid, "photo", "old.jpg", jpeg(start - timedelta(days=30)))
    assert old_photo.json["code"] == "photo_outside_session"
    assert _upload(trainer, sid, "photo", "scan.jpg", jpeg(None)).json["code"] == "photo_without_exif_time"
    with app.app_context():
        from app.training.materials import materials_of
        assert materials_of(sid) == []
    for n in (1, 2):
        assert _upload(trainer, sid, "photo", f"现场{n}.jpg", jpeg(taken)).status_code == 201
    slides = _upload(people["lecturer"], sid, "slides", "高血压管理.pdf", pdf_bytes())
    assert slides.status_code == 201 and slides.json["mime"] == "application/pdf"
    assert v1.get(f"/api/v1/training/materials/{slides.json['id']}").data == pdf_bytes()
    assert people["other"].get(f"/api/v1/training/materials/{slides.json['id']}").status_code == 404

    materials_task = one_task(trainer, "upload_materials")
    complete(trainer, materials_task, {"materials_uploaded": True})
    again = one_task(trainer, "upload_materials")           # no paper yet: the process sends it back
    assert "组卷" in (again["instructions"] or "")
    items = []
    for stem, answer in (("高血压控制满意的标准是", "A"), ("首选药物是", "B")):
        item = trainer.post("/api/v1/training/items", json={
            "kind": "single", "stem": stem, "answer": [answer], "category": "高血压",
            "options": [{"key": "A", "text": "甲"}, {"key": "B", "text": "乙"}, {"key": "C", "text": "丙"}]})
        assert item.status_code == 201, item.json
        items.append(item.json["id"])
    paper = trainer.put(f"/api/v1/training/sessions/{sid}/paper",
                        json={"item_ids": items, "time_limit_min": 20, "pass_mark": 60})
    assert paper.status_code == 200, paper.json
    complete(trainer, again, {"materials_uploaded": True})
    assert trainer.get(f"/api/v1/training/sessions/{sid}").json["phase"] == "exam_open"

    # -- the exam: auto-marked; v1 fails, takes the make-up and submits late ----------------------------------
    def take(api, right: bool):
        started = api.post(f"/api/v1/training/sessions/{sid}/exam/start")
        assert started.status_code == 200, started.json
        answers = {}
        for q in started.json["questions"]:
            key = {items[0]: "A", items[1]: "B"}[q["item_id"]]
            answers[str(q["item_id"])] = [key if right else "C"]
        return api.post(f"/api/v1/training/sessions/{sid}/exam/submit", json={"answers": answers})

    assert take(t1, True).json["score"] == 100
    assert take(t2, True).json["passed"] is True
    failed = take(v1, False)
    assert failed.json["score"] == 0 and failed.json["passed"] is False
    # everyone handed in: the exam closed without waiting 7 days, and the make-up opened for v1
    assert trainer.get(f"/api/v1/training/sessions/{sid}").json["phase"] == "makeup_open"
    assert t1.post(f"/api/v1/training/sessions/{sid}/exam/start").json["code"] == "not_eligible_for_exam"
    makeup = v1.post(f"/api/v1/training/sessions/{sid}/exam/start").json
    assert makeup["attempt_no"] == 2
    first = makeup["questions"][0]
    right_key = {items[0]: "A", items[1]: "B"}[first["item_id"]]
    saved = v1.post(f"/api/v1/training/sessions/{sid}/exam/answer", json={"item_id": first["item_id"],
                                                                         "keys": [right_key]})
    assert saved.json["late"] is False
    clock.advance(timedelta(minutes=25))        # past the 20-minute limit
    second = makeup["questions"][1]
    late_key = {items[0]: "A", items[1]: "B"}[second["item_id"]]
    marked = v1.post(f"/api/v1/training/sessions/{sid}/exam/submit",
                     json={"answers": {str(second["item_id"]): [late_key]}}).json
    assert marked["late"] is True and marked["score"] == 50 and marked["passed"] is False
    results = {r["user_id"]: r for r in trainer.get(f"/api/v1/training/sessions/{sid}/results").json["items"]}
    assert results[v1.user.id]["attempts"][1]["late"] is True
    analysis = trainer.get(f"/api/v1/training/sessions/{sid}/item-analysis").json
    assert analysis["sitters"] == 3 and {i["difficulty"] for i in analysis["items"]} == {round(2 / 3, 3)}

    # -- evaluation, summary, credits --------------------------------------------------------------------------
    assert t1.post(f"/api/v1/training/sessions/{sid}/satisfaction", json={
        "overall": 5, "content": 5, "lecturer": 4, "organisation": 4, "comment": "病例讨论很实用"}).status_code == 200
    summary = one_task(trainer, "write_summary")
    complete(trainer, summary, {"issues": "部分村医迟到", "improvements": "提前一天短信提醒"})
    done = trainer.get(f"/api/v1/training/sessions/{sid}").json
    assert done["phase"] == "completed", done

    transcript = t1.get(f"/api/v1/training/transcript?year={start.year}").json
    assert transcript["totals"] == {"hours": 3.0, "credits": 1.0, "I": 1.0, "II": 0.0}
    assert transcript["lines"][0]["credit_class"] == "I" and transcript["minimum"]["min_total"] == 25
    assert transcript["meets_minimum"] is False
    failed_transcript = trainer.get(f"/api/v1/training/transcript/{v1.user.id}?year={start.year}").json
    assert failed_transcript["totals"]["hours"] == 3.0 and failed_transcript["totals"]["credits"] == 0
    assert "考核未通过" in failed_transcript["lines"][0]["reason"]
    lecturer = people["lecturer"].get(f"/api/v1/training/transcript?year={start.year}").json
    assert lecturer["lines"][0]["capacity"] == "lecturer" and lecturer["totals"]["credits"] == 6.0
    t2_transcript = t2.get(f"/api/v1/training/transcript?year={start.year}").json
    assert t2_transcript["totals"]["credits"] == 0          # 2 h of a 3-h-per-credit project

    pdf = trainer.get(f"/api/v1/training/sessions/{sid}/summary.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "培训小结" in text and "提前一天短信提醒" in text and "签到率" in text
    sheet = trainer.get(f"/api/v1/training/sessions/{sid}/sign-in-sheet?format=xlsx")
    assert sheet.status_code == 200 and sheet.data[:2] == b"PK"
    sheet_pdf = trainer.get(f"/api/v1/training/sessions/{sid}/sign-in-sheet?format=pdf")
    assert "人工补签" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(sheet_pdf.data)).pages)
    export = trainer.get(f"/api/v1/training/credits/export?year={start.year}&format=csv")
    assert "本平台不授予官方学分" not in export.data.decode("utf-8-sig")      # csv: columns only
    assert "高血压基层规范化管理" in export.data.decode("utf-8-sig")
    indicators = trainer.get(f"/api/v1/training/indicators?start={clock.date_of(start)}&end={clock.date_of(start)}").json
    total = indicators["total"]
    assert total["sign_in_rate"]["numerator"] == 3 and total["sign_in_rate"]["denominator"] == 3
    assert total["pass_rate"]["value"] == round(2 / 3, 4)
