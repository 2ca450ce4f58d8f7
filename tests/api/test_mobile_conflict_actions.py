"""What a village doctor does with a conflicted offline completion (issue 22, offline.md §2.4-2.5): attach the entered
form as a note to whoever holds the resident's work now, record the visit that happened as an ad-hoc visit on the
resident record, or discard; a form retired offline names its successor; an expired offline lease is enforced;
the pull is paged by token with `has_more`."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core import clock, db
from app.residents.record_models import Encounter, Observation
from app.tasks.models import TaskComment
from app.workflows.models import HumanTask
from tests.helpers import move_to_changed_approval_form
from tests.mobile_support import Phone, bp, village_task


@pytest.fixture()
def world(app, county, deploy_models, login_as, make_resident):
    deploy_models("approval.bpmn", "approval", with_dmn=False)
    resident = make_resident(org="C01T01V01", name="王建国")
    task_id = village_task(app, resident)
    doctor = Phone(login_as("village_doctor", org="C01T01V01", username="wang_cun_yi"))
    return {"resident": resident, "task_id": task_id, "doctor": doctor}


def _task(packet, task_id):
    return next(t for t in packet["tasks"] if t["id"] == task_id)


def _resolve(phone, cid, action):
    return phone.post(f"/api/mobile/v1/completions/{cid}/resolve", json={"action": action})


def _count(app, model, *where):
    with app.app_context():
        n = db.session().scalar(select(func.count()).select_from(model).where(*where))
        db.session().rollback()
        return n


def _completed_elsewhere(world, login_as):
    phone, rid = world["doctor"], world["resident"]["id"]
    task = _task(phone.pull(None), world["task_id"])
    login_as("village_doctor", org="C01T01V01").post(f"/api/v1/tasks/{task['id']}/complete",
                                                     json={"data": {"amount": 3}})
    resp, body = phone.complete(task, {"amount": 4, "comment": "血压偏高"}, observations=[bp(rid, 150)])
    assert resp.status_code == 409 and resp.json["details"]["reason"] == "task_completed_elsewhere"
    return body["completion_id"]


# -- conflict actions ---------------------------------------------------------------------------------------------

def test_the_conflict_offers_the_actions_the_server_answers(world, login_as):
    phone = world["doctor"]
    task = _task(phone.pull(None), world["task_id"])
    login_as("village_doctor", org="C01T01V01").post(f"/api/v1/tasks/{task['id']}/claim")
    resp, _ = phone.complete(task, {"amount": 4})
    assert resp.json["details"]["options"] == ["attach_as_note", "record_visit", "discard"]


def test_record_visit_puts_an_ad_hoc_visit_on_the_resident_record_once(app, world, login_as):
    cid = _completed_elsewhere(world, login_as)
    phone, rid = world["doctor"], world["resident"]["id"]
    first = _resolve(phone, cid, "record_visit")
    assert first.status_code == 200, first.json
    assert first.json["action"] == "record_visit" and first.json["encounter"]["id"]
    assert "临时随访" in first.json["message"]
    again = _resolve(phone, cid, "record_visit")
    assert again.status_code == 200 and again.json == first.json
    assert _count(app, Encounter, Encounter.resident_id == rid, Encounter.kind == "follow_up") == 1
    assert _count(app, Observation, Observation.resident_id == rid) == 1        # the facts, kept once
    assert _count(app, AuditEntry, AuditEntry.action == "mobile.conflict_resolved") == 1


def test_attach_as_note_goes_to_the_residents_open_task_held_by_someone_else(app, world, login_as):
    cid = _completed_elsewhere(world, login_as)
    phone, rid = world["doctor"], world["resident"]["id"]
    later = village_task(app, world["resident"])                 # the resident's next piece of work
    colleague = login_as("village_doctor", org="C01T01V01")
    assert colleague.post(f"/api/v1/tasks/{later}/claim").status_code == 200
    resp = _resolve(phone, cid, "attach_as_note")
    assert resp.status_code == 200, resp.json
    assert resp.json["note"]["task_id"] == later and resp.json["note"]["holder"] == colleague.user.display_name
    comments = colleague.get(f"/api/v1/tasks/{later}/comments").json["items"]
    assert len(comments) == 1 and "4" in comments[0]["body"] and "血压偏高" in comments[0]["body"]
    assert _resolve(phone, cid, "attach_as_note").json == resp.json
    assert _count(app, TaskComment, TaskComment.task_id == later) == 1
    del rid


def test_attach_as_note_without_any_open_task_is_a_typed_409(world, login_as):
    cid = _completed_elsewhere(world, login_as)
    resp = _resolve(world["doctor"], cid, "attach_as_note")
    assert resp.status_code == 409 and resp.json["code"] == "no_open_task_for_note"


def test_a_reassigned_task_already_carries_the_note_and_attach_does_not_duplicate_it(app, world, login_as):
    phone = world["doctor"]
    task = _task(phone.pull(None), world["task_id"])
    colleague = login_as("village_doctor", org="C01T01V01")
    colleague.post(f"/api/v1/tasks/{task['id']}/claim")
    resp, body = phone.complete(task, {"amount": 42})
    assert resp.status_code == 409
    attached = _resolve(phone, body["completion_id"], "attach_as_note")
    assert attached.status_code == 200 and attached.json["note"]["task_id"] == task["id"]
    assert _count(app, TaskComment, TaskComment.task_id == task["id"]) == 1


def test_discard_closes_the_conflict_and_later_actions_are_refused(world, login_as):
    cid = _completed_elsewhere(world, login_as)
    phone = world["doctor"]
    assert _resolve(phone, cid, "discard").status_code == 200
    late = _resolve(phone, cid, "record_visit")
    assert late.status_code == 409 and late.json["code"] == "conflict_already_resolved"


def test_only_the_sender_may_act_and_only_on_a_conflict(world, login_as):
    phone = world["doctor"]
    task = _task(phone.pull(None), world["task_id"])
    ok, body = phone.complete(task, {"amount": 1})
    assert ok.status_code == 200
    refused = _resolve(phone, body["completion_id"], "record_visit")
    assert refused.status_code == 409 and refused.json["code"] == "completion_not_in_conflict"
    assert _resolve(phone, str(uuid.uuid4()), "discard").status_code == 404
    bad = _resolve(phone, body["completion_id"], "shrug")
    assert bad.status_code == 422


def test_another_doctor_cannot_act_on_my_conflict(world, login_as):
    cid = _completed_elsewhere(world, login_as)
    other = Phone(login_as("village_doctor", org="C01T01V01"))
    assert _resolve(other, cid, "discard").status_code == 404


# -- a form retired offline names its successor -------------------------------------------------------------------

def test_form_version_retired_names_the_successor_version(app, world):
    phone = world["doctor"]
    task = _task(phone.pull(None), world["task_id"])
    with app.app_context():
        instance = db.session().scalar(select(HumanTask.instance_id).where(HumanTask.id == task["id"]))
        db.session().rollback()
    move_to_changed_approval_form(app, instance)
    resp, _ = phone.complete(task, {"amount": 4})
    details = resp.json["details"]
    assert resp.status_code == 409 and details["reason"] == "form_version_retired"
    fresh = _task(phone.pull(), task["id"])
    assert details["successor_form_version"] == fresh["form_version"] != task["form_version"]
    assert details["successor_schema_ref"] == fresh["schema_ref"]


# -- offline leases -----------------------------------------------------------------------------------------------

def test_a_completion_filled_in_after_the_lease_ran_out_is_lease_expired_and_a_pull_renews_it(app, world,
                                                                                              monkeypatch):
    monkeypatch.setenv("YGT_MOBILE_LEASE_HOURS", "24")
    phone, rid = world["doctor"], world["resident"]["id"]
    phone.pull(None)
    assert phone.post(f"/api/mobile/v1/tasks/{world['task_id']}/claim").status_code == 200
    task = _task(phone.pull(), world["task_id"])
    clock.advance(timedelta(hours=30))
    try:
        late, _ = phone.complete(task, {"amount": 4}, observations=[bp(rid)],
                                 completed_at_device=clock.now().isoformat())
        assert late.status_code == 409, late.json
        assert late.json["details"]["reason"] == "lease_expired" and late.json["details"]["observations_saved"] == 1
        renewed = phone.pull()
        [lease] = renewed["leases"]
        assert lease["task_id"] == task["id"]
        fresh = _task(phone.pull(None), task["id"])
        ok, _ = phone.complete(fresh, {"amount": 4}, completed_at_device=clock.now().isoformat())
        assert ok.status_code == 200, ok.json
    finally:
        clock.reset()


def test_a_visit_done_within_the_lease_and_uploaded_later_is_applied(world, monkeypatch):
    monkeypatch.setenv("YGT_MOBILE_LEASE_HOURS", "24")
    phone = world["doctor"]
    phone.pull(None)
    phone.post(f"/api/mobile/v1/tasks/{world['task_id']}/claim")
    task = _task(phone.pull(), world["task_id"])
    filled = clock.now() + timedelta(hours=20)
    clock.advance(timedelta(hours=30))                       # reached signal only after the lease ran out
    try:
        resp, _ = phone.complete(task, {"amount": 4}, completed_at_device=filled.isoformat())
        assert resp.status_code == 200, resp.json
    finally:
        clock.reset()


# -- paging -------------------------------------------------------------------------------------------------------

def test_the_pull_is_paged_by_token_until_has_more_is_false(app, world, make_resident):
    phone = world["doctor"]
    ids = {world["task_id"]}
    for n in range(6):
        ids.add(village_task(app, make_resident(org="C01T01V01", name=f"李{'一二三四五六'[n]}")))
    seen_tasks, seen_residents, pages = set(), set(), []
    token = None
    while True:
        resp = phone.get("/api/mobile/v1/pull", query_string={"limit": 3, **({"token": token} if token else {})})
        assert resp.status_code == 200, resp.json
        page = resp.json
        pages.append(page)
        assert len(page["tasks"]) <= 3
        seen_tasks |= {t["id"] for t in page["tasks"]}
        seen_residents |= {r["id"] for r in page["residents"]}
        assert {t["resident_id"] for t in page["tasks"]} <= seen_residents   # a task never arrives before its resident
        token = page["token"]
        if not page["has_more"]:
            break
    assert [len(p["tasks"]) for p in pages] == [3, 3, 1] and pages[0]["reset"] and not pages[1]["reset"]
    assert seen_tasks == ids and len(seen_residents) == 7
    assert all(len(p["leases"]) == len(pages[0]["leases"]) for p in pages)
    phone.token = token
    rest = phone.pull()
    assert rest["tasks"] == [] and rest["residents"] == [] and rest["has_more"] is False


def test_a_page_token_sent_twice_gives_the_same_page(world, app, make_resident):
    phone = world["doctor"]
    for n in range(3):
        village_task(app, make_resident(org="C01T01V01", name=f"赵{'一二三'[n]}"))
    first = phone.get("/api/mobile/v1/pull", query_string={"limit": 2}).json
    a = phone.get("/api/mobile/v1/pull", query_string={"limit": 2, "token": first["token"]}).json
    b = phone.get("/api/mobile/v1/pull", query_string={"limit": 2, "token": first["token"]}).json
    assert [t["id"] for t in a["tasks"]] == [t["id"] for t in b["tasks"]] and a["has_more"] == b["has_more"]

