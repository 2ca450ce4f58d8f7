"""The mobile sync API (/api/mobile/v1, issue 22.1): the packet and its deltas with removals, facts by client id,
completion commands (idempotent, typed 409 reasons with the facts and the form kept), leases and revocation."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, update

from app.core import db
from app.residents.record_models import Observation
from app.tasks.models import TaskComment
from app.workflows.models import HumanTask, ProcessEvent
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


def test_first_pull_is_a_full_packet_with_task_resident_and_form(world):
    packet = world["doctor"].pull(None)
    assert packet["reset"] is True and packet["token"].startswith("m1.")
    task = _task(packet, world["task_id"])
    assert task["resident_id"] == world["resident"]["id"] and task["assigned_to_me"] is False
    assert task["lease_until"] is None and task["etag"].startswith(f'"{task["id"]}-')
    [form] = [s for s in packet["schemas"] if s["ref"] == task["schema_ref"]]
    assert form["schema"]["properties"]["amount"]["title"] == "金额" and form["version"] == task["form_version"]
    [resident] = packet["residents"]
    assert resident["name"] == "王建国" and "*" in resident["id_number"] and resident["org_name"]
    assert packet["removed"] == {"tasks": [], "residents": [], "schemas": []}


def test_a_pull_with_the_token_sends_only_what_changed(world):
    phone = world["doctor"]
    phone.pull(None)
    again = phone.pull()
    assert again["reset"] is False and again["tasks"] == [] and again["residents"] == [] and again["schemas"] == []


def test_smoke_completion(world):
    phone = world["doctor"]
    task = _task(phone.pull(None), world["task_id"])
    resp, _body = phone.complete(task, {"amount": 5}, observations=[bp(world["resident"]["id"])])
    assert resp.status_code == 200, resp.json
    assert resp.json["task"]["status"] == "completed" and resp.json["observations"][0]["status"] == "created"


# -- packet deltas and removals ---------------------------------------------------------------------------------

def test_a_task_completed_elsewhere_comes_back_as_a_removal_and_its_resident_too(app, world, login_as):
    phone = world["doctor"]
    ref = _task(phone.pull(None), world["task_id"])["schema_ref"]
    colleague = login_as("village_doctor", org="C01T01V01")
    assert colleague.post(f"/api/v1/tasks/{world['task_id']}/complete",
                          json={"data": {"amount": 1}}).status_code == 200
    delta = phone.pull()
    assert delta["reset"] is False
    assert delta["removed"]["tasks"] == [{"id": world["task_id"], "reason": "task_completed_elsewhere"}]
    assert delta["removed"]["residents"] == [{"id": world["resident"]["id"], "reason": "no_open_task"}]
    assert delta["removed"]["schemas"] == [ref]


def test_a_task_claimed_by_a_colleague_is_removed_as_reassigned(world, login_as):
    phone = world["doctor"]
    phone.pull(None)
    colleague = login_as("village_doctor", org="C01T01V01")
    assert colleague.post(f"/api/v1/tasks/{world['task_id']}/claim").status_code == 200
    assert phone.pull()["removed"]["tasks"] == [{"id": world["task_id"], "reason": "task_reassigned"}]


def test_a_resident_moved_out_of_scope_takes_the_task_out_of_the_packet(app, world):
    phone = world["doctor"]
    phone.pull(None)
    _move_resident(app, world["resident"]["id"], "C01T02V01")
    delta = phone.pull()
    assert delta["removed"]["tasks"] == [{"id": world["task_id"], "reason": "resident_out_of_scope"}]
    assert delta["removed"]["residents"] == [{"id": world["resident"]["id"], "reason": "resident_out_of_scope"}]


def test_an_unknown_or_foreign_token_gets_a_full_packet(world, login_as):
    phone = world["doctor"]
    token = phone.pull(None)["token"]
    assert phone.pull("m1.999999.deadbeef")["reset"] is True
    assert phone.pull("garbage")["reset"] is True
    other = Phone(world["doctor"].api)          # the same user on a second phone
    assert other.pull(token)["reset"] is True
    assert phone.pull(token)["reset"] is False   # the token of one of the last three packets still works


def test_the_same_token_twice_gives_the_same_delta(app, world, login_as):
    phone = world["doctor"]
    token = phone.pull(None)["token"]
    login_as("village_doctor", org="C01T01V01").post(f"/api/v1/tasks/{world['task_id']}/claim")
    first = phone.pull(token)
    second = phone.pull(token)
    assert first["removed"] == second["removed"] and first["removed"]["tasks"]


def test_claimed_tasks_get_a_lease_for_this_device(world, monkeypatch):
    monkeypatch.setenv("YGT_MOBILE_LEASE_HOURS", "12")
    phone = world["doctor"]
    phone.pull(None)
    claimed = phone.post(f"/api/mobile/v1/tasks/{world['task_id']}/claim")
    assert claimed.status_code == 200, claimed.json
    assert claimed.json["assigned_to_me"] is True and claimed.json["lease_until"]
    packet = phone.pull()
    assert packet["lease_hours"] == 12
    assert [lease["task_id"] for lease in packet["leases"]] == [world["task_id"]]
    assert _task(packet, world["task_id"])["lease_until"]
    devices = phone.api.get("/api/mobile/v1/devices").json["items"]
    assert [d["leases"] for d in devices] == [1]


# -- facts ------------------------------------------------------------------------------------------------------

def test_observations_are_recorded_once_per_client_id_and_each_item_answers_for_itself(app, world):
    phone, rid = world["doctor"], world["resident"]["id"]
    same = str(uuid.uuid4())
    body = {"observations": [bp(rid, 132, id=same), bp(rid, 999), bp(rid, 120, device_serial="CUFF-7"),
                             {**bp(rid), "unit": "furlongs"}]}
    first = phone.post("/api/mobile/v1/observations", json=body)
    assert first.status_code == 200, first.json
    statuses = [(r["status"], (r.get("error") or {}).get("code")) for r in first.json["results"]]
    assert statuses == [("created", None), ("invalid", "invalid_value"), ("created", None),
                        ("invalid", "invalid_unit")]
    again = phone.post("/api/mobile/v1/observations", json={"observations": [bp(rid, 132, id=same)]})
    assert again.json["results"][0]["status"] == "duplicate"
    assert again.json["results"][0]["observation_id"] == first.json["results"][0]["observation_id"]
    with app.app_context():
        sources = sorted(db.session().scalars(select(Observation.source).where(Observation.resident_id == rid)))
    assert sources == ["mobile", "mobile:ble:CUFF-7"]


def test_an_observation_for_a_resident_never_in_scope_is_refused(world, make_resident):
    stranger = make_resident(org="C01T02V01", name="李秀英")
    resp = world["doctor"].post("/api/mobile/v1/observations", json={"observations": [bp(stranger["id"])]})
    assert resp.json["results"][0]["error"]["code"] == "resident_not_found"


def test_a_resident_who_moved_out_while_offline_still_gets_the_facts(app, world):
    phone = world["doctor"]
    phone.pull(None)
    _move_resident(app, world["resident"]["id"], "C01T02V01")
    resp = phone.post("/api/mobile/v1/observations", json={"observations": [bp(world["resident"]["id"])]})
    assert resp.json["results"][0]["status"] == "created"


def test_bad_shapes_and_missing_device_ids_are_refused_whole(world):
    phone = world["doctor"]
    assert phone.post("/api/mobile/v1/observations", json={"observations": []}).status_code == 422
    assert phone.post("/api/mobile/v1/observations",
                      json={"observations": [{"id": "short"}]}).status_code == 422
    no_device = phone.api.post("/api/mobile/v1/observations", json={"observations": [bp(1)]})
    assert no_device.status_code == 422 and no_device.json["code"] == "device_id_required"
    bad = phone.api.get("/api/mobile/v1/pull", headers={"X-Device-Id": "x"})
    assert bad.json["code"] == "device_id_required"


def test_roles_without_patients_cannot_sync(login_as):
    trainer = Phone(login_as("trainer"))
    assert trainer.get("/api/mobile/v1/pull").status_code == 403


# -- completions ------------------------------------------------------------------------------------------------

def test_a_completion_applies_once_and_a_resend_gets_the_same_answer(app, world):
    phone, rid = world["doctor"], world["resident"]["id"]
    task = _task(phone.pull(None), world["task_id"])
    cid = str(uuid.uuid4())
    reading = bp(rid, 138)
    first, body = phone.complete(task, {"amount": 5}, observations=[reading], completion_id=cid)
    assert first.status_code == 200, first.json
    assert first.json["status"] == "completed" and first.json["task"]["completed_by"] == phone.user.username
    again = phone.post("/api/mobile/v1/completions", json=body)
    assert again.status_code == 200 and again.json == first.json
    with app.app_context():
        s = db.session()
        completed = s.scalar(select(func.count()).select_from(ProcessEvent).where(
            ProcessEvent.instance_id == first.json["task"]["instance_id"], ProcessEvent.type == "task_completed"))
        readings = s.scalar(select(func.count()).select_from(Observation).where(Observation.resident_id == rid))
    assert (completed, readings) == (1, 1)
    changed = phone.post("/api/mobile/v1/completions", json={**body, "data": {"amount": 6}})
    assert changed.status_code == 422 and changed.json["code"] == "idempotency_key_reused"
    assert phone.pull()["removed"]["tasks"] == [{"id": task["id"], "reason": "task_completed"}]


def test_invalid_form_data_is_422_and_may_be_corrected_under_the_same_id(world):
    phone = world["doctor"]
    task = _task(phone.pull(None), world["task_id"])
    cid = str(uuid.uuid4())
    bad, _ = phone.complete(task, {"amount": -1}, completion_id=cid)
    assert bad.status_code == 422 and bad.json["code"] == "form_invalid"
    good, _ = phone.complete(task, {"amount": 1}, completion_id=cid)
    assert good.status_code == 200, good.json


def test_reassigned_while_offline_is_a_typed_409_with_facts_and_form_kept_for_the_new_owner(app, world, login_as):
    phone, rid = world["doctor"], world["resident"]["id"]
    task = _task(phone.pull(None), world["task_id"])
    colleague = login_as("village_doctor", org="C01T01V01")
    assert colleague.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    resp, body = phone.complete(task, {"amount": 42, "comment": "头晕"}, observations=[bp(rid, 150)])
    assert resp.status_code == 409, resp.json
    details = resp.json["details"]
    assert resp.json["code"] == "completion_conflict" and details["reason"] == "task_reassigned"
    assert details["observations_saved"] == 1 and details["note_kept"] is True
    assert details["current_holder"] == colleague.user.display_name
    assert "改派" in resp.json["message"] and "已保存" in resp.json["message"]
    again = phone.post("/api/mobile/v1/completions", json=body)
    assert again.status_code == 409 and again.json == resp.json
    comments = colleague.get(f"/api/v1/tasks/{task['id']}/comments").json["items"]
    assert len(comments) == 1 and "42" in comments[0]["body"] and "头晕" in comments[0]["body"]
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Observation)
                                   .where(Observation.resident_id == rid)) == 1
    assert colleague.get(f"/api/v1/tasks/{task['id']}").json["status"] == "open"


def test_completed_elsewhere_is_task_completed_elsewhere(world, login_as):
    phone = world["doctor"]
    task = _task(phone.pull(None), world["task_id"])
    login_as("village_doctor", org="C01T01V01").post(f"/api/v1/tasks/{task['id']}/complete",
                                                     json={"data": {"amount": 3}})
    resp, _ = phone.complete(task, {"amount": 4})
    assert resp.status_code == 409 and resp.json["details"]["reason"] == "task_completed_elsewhere"


def test_a_cancelled_task_is_task_cancelled(app, world):
    phone = world["doctor"]
    task = _task(phone.pull(None), world["task_id"])
    with app.app_context(), db.unit_of_work() as s:
        s.execute(update(HumanTask).where(HumanTask.id == task["id"]).values(status="cancelled"))
    resp, _ = phone.complete(task, {"amount": 4})
    assert resp.status_code == 409 and resp.json["details"]["reason"] == "task_cancelled"


def test_a_resident_moved_out_of_scope_is_resident_out_of_scope_and_the_facts_are_kept(app, world):
    phone, rid = world["doctor"], world["resident"]["id"]
    task = _task(phone.pull(None), world["task_id"])
    _move_resident(app, rid, "C01T02V01")
    resp, _ = phone.complete(task, {"amount": 4}, observations=[bp(rid)])
    assert resp.status_code == 409 and resp.json["details"]["reason"] == "resident_out_of_scope"
    assert resp.json["details"]["observations_saved"] == 1
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(TaskComment)
                                   .where(TaskComment.task_id == task["id"])) == 1


def test_a_form_retired_while_offline_is_form_version_retired_and_the_next_pull_brings_the_new_one(app, world):
    phone = world["doctor"]
    task = _task(phone.pull(None), world["task_id"])
    with app.app_context():
        instance = db.session().scalar(select(HumanTask.instance_id).where(HumanTask.id == task["id"]))
        db.session().rollback()
    move_to_changed_approval_form(app, instance)
    resp, _ = phone.complete(task, {"amount": 4})
    assert resp.status_code == 409 and resp.json["details"]["reason"] == "form_version_retired"
    fresh = _task(phone.pull(), task["id"])
    assert fresh["form_version"] != task["form_version"] and fresh["schema_ref"] != task["schema_ref"]
    resp, _ = phone.complete(fresh, {"amount": 4})
    assert resp.status_code == 200, resp.json


def test_an_etag_that_differs_only_in_version_is_not_a_conflict(world):
    phone = world["doctor"]
    task = _task(phone.pull(None), world["task_id"])
    assert phone.post(f"/api/mobile/v1/tasks/{task['id']}/claim").status_code == 200   # bumps the version
    resp, _ = phone.complete(task, {"amount": 4})
    assert resp.status_code == 200, resp.json


def test_a_task_never_seen_outside_scope_is_not_found(world, deploy_models, app, make_resident, login_as):
    away = make_resident(org="C01T02V01", name="李秀英")
    away_task = village_task(app, away, org="C01T02V01")
    phone = world["doctor"]
    fake = {"id": away_task, "etag": f'"{away_task}-1"', "form_version": "x"}
    resp, _ = phone.complete(fake, {"amount": 1})
    assert resp.status_code == 404
    assert phone.post(f"/api/mobile/v1/tasks/{away_task}/claim").status_code == 404
    assert phone.post("/api/mobile/v1/tasks/987654/claim").status_code == 404


# -- revocation ---------------------------------------------------------------------------------------------------

def test_a_revoked_device_is_told_to_wipe_and_writes_nothing(app, world, login_as):
    phone, rid = world["doctor"], world["resident"]["id"]
    task = _task(phone.pull(None), world["task_id"])
    phone.post(f"/api/mobile/v1/tasks/{task['id']}/claim")
    admin = login_as("county_admin")
    [device] = admin.get("/api/mobile/v1/devices").json["items"]
    assert device["user"]["display_name"] == "wang_cun_yi" and device["leases"] == 1
    outsider_admin = login_as("village_doctor", org="C01T02V01")
    assert outsider_admin.post(f"/api/mobile/v1/devices/{device['id']}/revoke",
                               json={"reason": "x"}).status_code == 404
    revoked = admin.post(f"/api/mobile/v1/devices/{device['id']}/revoke", json={"reason": "手机丢失"})
    assert revoked.status_code == 200 and revoked.json["revoked_at"] and revoked.json["leases"] == 0
    assert admin.post(f"/api/mobile/v1/devices/{device['id']}/revoke",
                      json={"reason": "again"}).json["code"] == "device_already_revoked"
    pulled = phone.get("/api/mobile/v1/pull")
    assert pulled.status_code == 403 and pulled.json["code"] == "device_revoked"
    assert pulled.json["details"]["wipe"] is True
    resp, _ = phone.complete(task, {"amount": 1}, observations=[bp(rid)])
    assert resp.status_code == 403 and resp.json["code"] == "device_revoked"
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Observation)) == 0
    fresh = Phone(phone.api)               # the doctor's new phone works
    assert fresh.pull(None)["reset"] is True


def _move_resident(app, resident_id: int, org: str) -> None:
    from app.org.models import Organization
    from app.residents.models import Resident
    with app.app_context(), db.unit_of_work() as s:
        path = s.get(Organization, org).path
        s.execute(update(Resident).where(Resident.id == resident_id).values(org_code=org, org_path=path))
