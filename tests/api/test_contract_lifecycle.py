"""Issue 21.4 the contract's cycle end to end on the fake clock: quarterly progress checks (a lagging item raises
补齐滞后服务 for the team, an on-track quarter raises nothing), the renewal talk 30 days before expiry (renew starts the
next cycle's contract, which takes over the day after the old one ends), expiry and the satisfaction answer."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core import clock, ratelimit
from tests.contract_support import assess, contract, deploy_contract_models, select, sign
from tests.test_follow_up_support import complete, make_resident, one_task, open_tasks, tick


@pytest.fixture()
def world(app, county, login_as):
    deploy_contract_models(app)
    with app.app_context():
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=20, burst=100).reset()
    return {"resident": make_resident(app), "village": login_as("village_doctor", org="C01T01V01"),
            "admin": login_as("county_admin", org="C01")}


def free_contract(app, w) -> dict:
    from app.contracting import services
    with app.app_context():
        cid = services.request_contract(w["resident"], None, "staff").id
    assess(w["village"], risk="LOW", groups=("一般人群",))
    select(w["village"], ["BASIC"])
    sign(w["village"], cid)
    got = contract(w["village"], cid)
    assert got["status"] == "active", got
    return got


def move_to(app, day: date, hour: int = 9) -> None:
    """Advance the platform clock to `day` at `hour` local time and run the schedules (timers fire)."""
    with app.app_context():
        target = clock.start_of_day(day) + timedelta(hours=hour)
        gap = target - clock.now()
    assert gap > timedelta(0), (day, gap)
    clock.advance(gap)
    tick(app)


def months_later(start: str, months: int) -> date:
    from app.contracting.services import add_months
    return add_months(date.fromisoformat(start), months)


def test_a_lagging_quarter_raises_catch_up_and_an_on_track_quarter_does_not(app, client, world):
    w = world
    got = free_contract(app, w)
    start = got["starts_on"]
    # nothing fell due yet at three months for the yearly items, but the quarterly education unit did: lagging
    move_to(app, months_later(start, 3))
    task = one_task(w["village"], "catch_up")
    assert got["contract_no"] in task["instructions"] and "应完成 1，已完成 0" in task["instructions"]
    complete(w["village"], task, {"plan": "下周入户补做健康教育"})
    # the team delivers the education units due by the half year; the 6-month check then raises nothing
    ledger = {i["service_code"]: i for i in contract(w["village"], got["id"])["ledger"]}
    for _ in range(2):
        resp = w["village"].post(f"/api/v1/contracts/{got['id']}/deliveries",
                                 json={"item_id": ledger["phs_health_education"]["item_id"]})
        assert resp.status_code == 201, resp.json
    move_to(app, months_later(start, 6))
    assert not open_tasks(w["village"], "catch_up")
    assert contract(w["village"], got["id"])["status"] == "active"


def test_renewal_30_days_before_expiry_starts_the_next_cycle_which_follows_the_old_one(app, client, world):
    w = world
    got = free_contract(app, w)
    ends = date.fromisoformat(got["ends_on"])
    # the quarterly checks come and go (lagging tasks answered), then the renewal talk 30 days before the end
    for m in (3, 6, 9):
        move_to(app, months_later(got["starts_on"], m))
        for task in open_tasks(w["village"], "catch_up"):
            complete(w["village"], w["village"].get(f"/api/v1/tasks/{task['id']}").json, {"plan": "补做"})
    assert not open_tasks(w["village"], "renewal_talk")
    move_to(app, ends - timedelta(days=29))
    talk = one_task(w["village"], "renewal_talk")
    assert got["contract_no"] in talk["instructions"]
    complete(w["village"], talk, {"renewal_decision": "renew", "renewal_note": "居民同意续约"})
    old = contract(w["village"], got["id"])
    assert old["renewal"] == "renew" and old["status"] == "active"
    # the renewal's own contract runs through assessment and signing now; it starts the day after the old end
    assess(w["village"], risk="LOW", groups=("一般人群",))
    select(w["village"], ["BASIC"])
    listed = w["village"].get(f"/api/v1/contracts?resident_id={w['resident']}").json
    nxt = next(c for c in listed["items"] if c["id"] != got["id"])
    assert nxt["channel_label"] == "续约"
    sign(w["village"], nxt["id"])
    nxt = contract(w["village"], nxt["id"])
    assert nxt["status"] == "active" and nxt["starts_on"] == (ends + timedelta(days=1)).isoformat()
    # expiry: the old contract ends (到期续约) and its satisfaction step opens; the answer feeds the indicator
    move_to(app, ends + timedelta(days=1))
    old = contract(w["village"], got["id"])
    assert old["status"] == "ended" and old["end_reason"] == "到期续约"
    rate = [t for t in open_tasks(w["village"], "satisfaction") if got["contract_no"] in
            w["village"].get(f"/api/v1/tasks/{t['id']}").json["instructions"]]
    assert len(rate) == 1
    complete(w["village"], w["village"].get(f"/api/v1/tasks/{rate[0]['id']}").json,
             {"satisfaction_score": 4, "satisfaction_comment": "服务及时"})
    assert contract(w["village"], got["id"])["satisfaction"] == 4
    assert contract(w["village"], nxt["id"])["status"] == "active"


def test_a_lapsed_contract_expires_and_a_new_request_is_allowed(app, client, world):
    w = world
    got = free_contract(app, w)
    ends = date.fromisoformat(got["ends_on"])
    move_to(app, ends - timedelta(days=29))
    # the three quarterly checks that fell due meanwhile come one after the other (each lagging, each answered)
    answered = 0
    while not open_tasks(w["village"], "renewal_talk"):
        task = one_task(w["village"], "catch_up")
        complete(w["village"], task, {"plan": "补做"})
        answered += 1
        assert answered <= 3
        tick(app)
    assert answered == 3
    complete(w["village"], one_task(w["village"], "renewal_talk"), {"renewal_decision": "lapse"})
    move_to(app, ends + timedelta(days=1))
    old = contract(w["village"], got["id"])
    assert old["status"] == "ended" and old["end_reason"] == "到期未续约"
    resp = w["village"].post("/api/v1/contracts", json={"resident_id": w["resident"]})
    assert resp.status_code == 201, resp.json


def test_a_switch_at_cycle_end_raises_a_termination_task_for_the_old_team(app, client, world, login_as):
    w = world
    got = free_contract(app, w)
    ends = date.fromisoformat(got["ends_on"])
    township = login_as("township_doctor", org="C01T01")
    # before the last 30 days a switch is refused naming the contract
    resp = township.post("/api/v1/contracts", json={"resident_id": w["resident"], "team_org_code": "C01T01"})
    assert resp.status_code == 409 and resp.json["code"] == "active_contract_exists", resp.json
    move_to(app, ends - timedelta(days=20))
    while not open_tasks(w["village"], "renewal_talk"):
        complete(w["village"], one_task(w["village"], "catch_up"), {"plan": "补做"})
        tick(app)
    complete(w["village"], one_task(w["village"], "renewal_talk"), {"renewal_decision": "switch"})
    # the township team signs the resident for the next cycle
    resp = township.post("/api/v1/contracts", json={"resident_id": w["resident"], "team_org_code": "C01T01"})
    assert resp.status_code == 201, resp.json
    new_id = resp.json["id"]
    assert resp.json["org_code"] == "C01T01" and resp.json["previous_contract_no"] == got["contract_no"]
    assess(township, risk="LOW", groups=("一般人群",))
    select(township, ["BASIC"])
    sign(township, new_id)
    new = contract(township, new_id)
    assert new["status"] == "active" and new["starts_on"] == (ends + timedelta(days=1)).isoformat()
    # the old (village) team gets 解约: the reason, the ledger, and the resident must be told
    task = one_task(w["village"], "terminate_old")
    assert "更换家庭医生团队" in task["instructions"] and got["contract_no"] in task["instructions"]
    assert task["org_code"] == "C01T01V01" and task["role"] == "village_doctor"
    resp = w["village"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"informed_how": "phone"}})
    assert resp.status_code == 422, resp.json           # the note is optional, confirming the resident was told is not
    complete(w["village"], task, {"informed_how": "phone", "resident_informed": True, "termination_note": "已电话告知"})
    old = contract(w["village"], got["id"])
    assert old["termination"]["reason"] == "更换家庭医生团队" and old["termination"]["informed_how_label"] == "电话告知"
    assert old["termination"]["effective_on"] == got["ends_on"] and old["termination"]["new_contract_no"]
    # the old contract serves to its last day, then ends as terminated (its ledger closes)
    move_to(app, ends + timedelta(days=1))
    old = contract(w["village"], got["id"])
    assert old["status"] == "terminated" and "更换家庭医生团队" in old["end_reason"]
    resp = w["village"].post(f"/api/v1/contracts/{got['id']}/deliveries", json={"item_id": old["ledger"][0]["item_id"]})
    assert resp.status_code == 409 and resp.json["code"] == "contract_not_active"
    # the portal shows the resident the new contract and the ended one with its reason
    from app.contracting import queries
    with app.app_context():
        summary = queries.resident_summary(w["resident"])
    assert summary["active"]["contract_no"] == new["contract_no"]
    assert summary["last_ended"]["contract_no"] == got["contract_no"]
    assert "更换家庭医生团队" in summary["last_ended"]["end_reason"]


def test_a_move_terminates_the_old_contract_at_once_and_its_process_stops(app, client, world):
    w = world
    got = free_contract(app, w)
    resp = w["village"].post("/api/v1/contracts", json={"resident_id": w["resident"], "moved": True})
    assert resp.status_code == 201, resp.json
    new_id = resp.json["id"]
    assess(w["village"], risk="LOW", groups=("一般人群",))
    select(w["village"], ["BASIC"])
    sign(w["village"], new_id)
    old = contract(w["village"], got["id"])
    assert old["status"] == "terminated" and old["termination"]["reason"] == "居民迁居"
    task = one_task(w["village"], "terminate_old")
    assert "居民迁居" in task["instructions"]
    complete(w["village"], task, {"informed_how": "sms", "resident_informed": True})
    # 短信告知: the notice goes through the SMS gateway (the development sink keeps it)
    from connectors.sms.gateway import dev_messages
    with app.app_context():
        texts = [m.text for m in dev_messages(phone="13800001234")]
    assert any(got["contract_no"] in t and "居民迁居" in t for t in texts), texts
    assert contract(w["village"], got["id"])["termination"]["informed_how_label"] == "短信告知"
    # the old cycle's next check finds it closed: its process ends, no catch-up task for a contract that is gone
    move_to(app, months_later(got["starts_on"], 3))
    tasks = [w["village"].get(f"/api/v1/tasks/{t['id']}").json for t in open_tasks(w["village"], "catch_up")]
    assert not [t for t in tasks if got["contract_no"] in t["instructions"]], (got["contract_no"], [t["instructions"] for t in tasks])
    with app.app_context():
        from app.core.db import session
        from app.workflows.models import ProcessInstance
        assert session().get(ProcessInstance, old["instance_id"]).status == "completed"


def test_the_resident_answers_the_cycle_end_satisfaction_from_the_portal(app, client, world):
    w = world
    got = free_contract(app, w)
    ends = date.fromisoformat(got["ends_on"])
    move_to(app, ends - timedelta(days=29))
    while not open_tasks(w["village"], "renewal_talk"):
        complete(w["village"], one_task(w["village"], "catch_up"), {"plan": "补做"})
        tick(app)
    complete(w["village"], one_task(w["village"], "renewal_talk"), {"renewal_decision": "lapse"})
    # the resident binds the portal; before the cycle ends there is no contract survey
    import random

    from app.residents import idcard
    id_number = idcard.generate(random.Random(7), area_code="330127", birth_date=date(1956, 3, 14), sex="M")
    P = "/api/portal/v1"
    assert client.post(f"{P}/bind/sms", json={"id_number": id_number, "name": "王建国"}).status_code == 202
    from connectors.sms.gateway import dev_messages
    with app.app_context():
        import re
        code = re.search(r"(\d{6})", dev_messages(limit=1)[0].text).group(1)
    token = client.post(f"{P}/bind/sms/verify", json={"id_number": id_number, "name": "王建国", "code": code}).json
    headers = {"X-Portal-Token": token["token"]}
    assert client.post(f"{P}/consents", headers=headers,
                       json={"purpose": "health_data", "channel": "portal", "granted": True}).status_code == 201
    assert "contract_cycle" not in [s["code"] for s in client.get(f"{P}/surveys", headers=headers).json["items"]]
    early = client.post(f"{P}/surveys", headers=headers, json={"code": "contract_cycle", "overall": 5})
    assert early.status_code == 404 and early.json["code"] == "satisfaction_not_open"
    # the cycle ends: the satisfaction step opens for the team and the portal offers it to the resident
    move_to(app, ends + timedelta(days=1))
    listed = client.get(f"{P}/surveys", headers=headers).json["items"]
    assert listed[0]["code"] == "contract_cycle" and "家庭医生签约服务满意度" in listed[0]["title"]
    assert one_task(w["village"], "satisfaction")
    answered = client.post(f"{P}/surveys", headers=headers, json={"code": "contract_cycle", "overall": 3})
    assert answered.status_code == 201, answered.json
    assert "contract_cycle" not in [s["code"] for s in answered.json["items"]]
    # the team's task is done with the resident's own score, which feeds the satisfaction indicator
    assert not open_tasks(w["village"], "satisfaction")
    assert contract(w["village"], got["id"])["satisfaction"] == 3
    again = client.post(f"{P}/surveys", headers=headers, json={"code": "contract_cycle", "overall": 5})
    assert again.status_code == 404 and again.json["code"] == "satisfaction_not_open"
