"""Issue 21.4/21.5 `fd_contract` through the API: a request (portal/staff), assessment, R9 recommendation, selection
with disclosure, payment confirmed by the cashier's webhook (a payment for a voided offer is kept and flagged), the
signature, one active contract per resident, the schedule from the package items and the ledger (a follow-up visit
counts; a unit beyond the quantity is refused); the catalogue never charges a free 基本公卫 item."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock, ratelimit
from tests.contract_support import assess, contract, deploy_contract_models, pay, select, sign
from tests.test_follow_up_support import make_resident, open_tasks, tick


@pytest.fixture()
def world(app, county, login_as):
    deploy_contract_models(app)
    with app.app_context():
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=20, burst=100).reset()
    from app.auth.services import create_client
    with app.app_context():
        client, secret = create_client("县医保结算系统")
    return {"resident": make_resident(app), "cashier": {"client_id": client.client_id, "secret": secret},
            "village": login_as("village_doctor", org="C01T01V01"),
            "admin": login_as("county_admin", org="C01"),
            "other_village": login_as("village_doctor", org="C01T02V01")}


def request(app, resident_id: int, package: str | None = None, **kw):
    from app.contracting import services
    with app.app_context():
        row = services.request_contract(resident_id, package, **kw)
        return row.id, row.contract_no


def signed_htn_contract(app, client, w) -> dict:
    cid, no = request(app, w["resident"], "HTN_PLUS")
    assess(w["village"], risk="HIGH")
    task = open_tasks(w["village"], "select_package")[0]
    assert "高血压个性化包" in w["village"].get(f"/api/v1/tasks/{task['id']}").json["instructions"]
    select(w["village"], ["BASIC", "HTN_PLUS"])
    got = contract(w["village"], cid)
    assert got["status"] == "awaiting_payment" and got["amount_due_fen"] == 3000
    resp = pay(client, w["cashier"], no, 3000)
    assert resp.status_code == 200 and resp.json["applied"] is True, resp.json
    assert contract(w["village"], cid)["status"] == "awaiting_signature"
    sign(w["village"], cid)
    return contract(w["village"], cid)


def test_a_portal_request_with_a_paid_package_is_signed_and_its_schedule_generated(app, client, world):
    w = world
    got = signed_htn_contract(app, client, w)
    assert got["status"] == "active" and got["status_label"] == "履约中"
    assert got["channel_label"] == "居民线上申请" and got["recommended"] == ["BASIC", "HTN_PLUS"]
    assert got["signature"]["method_label"] == "手机电子签名" and got["paid_at"]
    items = {i["service_code"]: i for i in got["ledger"]}
    assert items["htn_home_follow_up"]["quantity"] == 4 and items["htn_home_follow_up"]["delivered"] == 0
    assert items["phs_health_education"]["quantity"] == 4 and items["htn_annual_labs"]["quantity"] == 1
    from app.contracting import queries
    with app.app_context():
        summary = queries.resident_summary(w["resident"])
    assert summary["active"]["contract_no"] == got["contract_no"] and summary["can_request"] is True
    assert [p["code"] for p in summary["active"]["packages"]] == ["BASIC", "HTN_PLUS"]
    # the portal shows this summary as it is: its ledger's due dates must dump (a str there answered 500 on /portal)
    from app.portal.schemas import PortalContractSchema
    shown = PortalContractSchema().dump(summary)
    assert {i["name"]: i["next_due_on"] for i in shown["active"]["ledger"]}
    assert all(i["next_due_on"] is None or len(i["next_due_on"]) == 10 for i in shown["active"]["ledger"])


def test_a_second_contract_is_refused_naming_the_existing_one(app, client, world):
    w = world
    got = signed_htn_contract(app, client, w)
    resp = w["village"].post("/api/v1/contracts", json={"resident_id": w["resident"]})
    assert resp.status_code == 409 and resp.json["code"] == "active_contract_exists", resp.json
    assert resp.json["details"]["contract_no"] == got["contract_no"]
    assert got["contract_no"] in resp.json["message"]
    # a move allows a new contract at once; the old one ends when the new one is signed
    resp = w["village"].post("/api/v1/contracts", json={"resident_id": w["resident"], "moved": True})
    assert resp.status_code == 201, resp.json
    assert resp.json["previous_contract_no"] == got["contract_no"]


def test_a_follow_up_counts_against_the_package_and_a_unit_beyond_the_quantity_is_refused(app, client, world):
    w = world
    got = signed_htn_contract(app, client, w)
    from app.core.db import unit_of_work
    from app.workflows import hooks
    with app.app_context(), unit_of_work():
        hooks.emit(hooks.FOLLOW_UP_RECORDED, resident_id=w["resident"], visit_id=9001, disease="htn",
                   visited_on=clock.today(), visit_type="home", performed_by="vd")
    item = {i["service_code"]: i for i in contract(w["village"], got["id"])["ledger"]}["htn_home_follow_up"]
    assert item["delivered"] == 1 and item["remaining"] == 3
    labs = {i["service_code"]: i for i in got["ledger"]}["htn_annual_labs"]
    resp = w["village"].post(f"/api/v1/contracts/{got['id']}/deliveries", json={"item_id": labs["item_id"]})
    assert resp.status_code == 201, resp.json
    assert resp.json["deliveries"][-1]["on_time"] is True
    resp = w["village"].post(f"/api/v1/contracts/{got['id']}/deliveries", json={"item_id": labs["item_id"]})
    assert resp.status_code == 409 and resp.json["code"] == "item_quantity_exhausted", resp.json
    assert {i["service_code"]: i for i in contract(w["village"], got["id"])["ledger"]}["htn_annual_labs"][
        "delivered"] == 1
    # another township's doctor does not see the contract at all
    assert w["other_village"].get(f"/api/v1/contracts/{got['id']}").status_code == 404


def test_an_unpaid_offer_is_voided_after_7_days_and_a_late_payment_is_flagged_not_applied(app, client, world):
    w = world
    cid, no = request(app, w["resident"], None, channel="staff")
    assess(w["village"], risk="VERY_HIGH")
    select(w["village"], ["BASIC", "HTN_PLUS"])
    clock.advance(timedelta(days=7, hours=1))
    tick(app)
    got = contract(w["village"], cid)
    assert got["status"] == "voided", got
    resp = pay(client, w["cashier"], no, 3000)
    assert resp.status_code == 200, resp.json
    assert resp.json["applied"] is False and resp.json["flag"] == "offer_voided"
    got = contract(w["village"], cid)
    assert got["status"] == "voided" and got["paid_at"] is None
    assert [(p["status"], p["flag"]) for p in got["payments"]] == [("flagged", "offer_voided")]
    flagged = w["admin"].get("/api/v1/contract-payments/flagged").json
    assert [f["contract_no"] for f in flagged] == [no]
    assert not open_tasks(w["village"], "sign")


def test_a_free_package_needs_no_payment(app, client, world):
    w = world
    cid, _ = request(app, w["resident"], None, channel="staff")
    assess(w["village"], groups=("一般人群",), risk="NA")
    select(w["village"], ["BASIC"])
    assert contract(w["village"], cid)["status"] == "awaiting_signature"
    resp = w["village"].post("/api/v1/tasks/{}/complete".format(open_tasks(w["village"], "sign")[0]["id"]),
                             json={"data": {"signed": True}})
    assert resp.status_code == 422 and resp.json["code"] == "signature_missing", resp.json
    sign(w["village"], cid)
    assert contract(w["village"], cid)["status"] == "active"


def test_the_county_admin_versions_a_package_and_a_free_phs_item_is_never_charged(app, world):
    w = world
    body = {"code": "HTN_PLUS", "name": "高血压个性化包", "target_groups": ["高血压"], "price_fen": 13000,
            "payer_split": {"insurance": 6000, "public_health": 3000, "self": 4000},
            "items": [{"service_code": "htn_home_follow_up", "name": "上门高血压随访", "kind": "follow_up",
                       "disease": "htn", "quantity": 1, "period": "quarter", "provider_level": "village"}]}
    resp = w["admin"].post("/api/v1/contract-packages", json=body)
    assert resp.status_code == 201 and resp.json["version"] == 2, resp.json
    versions = w["admin"].get("/api/v1/contract-packages/HTN_PLUS/versions").json
    assert [(v["version"], v["current"]) for v in versions] == [(2, True), (1, False)]
    charged = {**body, "items": [*body["items"], {"service_code": "phs_htn_follow_up", "kind": "follow_up",
                                                  "disease": "htn", "quantity": 1, "period": "quarter",
                                                  "provider_level": "village"}]}
    resp = w["admin"].post("/api/v1/contract-packages", json=charged)
    assert resp.status_code == 422 and resp.json["code"] == "free_phs_item_charged", resp.json
    resp = w["admin"].post("/api/v1/contract-packages", json={**body, "price_fen": 10000})
    assert resp.status_code == 422 and resp.json["code"] == "payer_split_mismatch"
    assert len(w["admin"].get("/api/v1/contract-packages/HTN_PLUS/versions").json) == 2
    assert w["village"].post("/api/v1/contract-packages", json=body).status_code == 403


def test_the_contracting_indicators_move_with_signing_and_delivery(app, client, world, login_as):
    w = world
    supervisor = login_as("supervisor")
    with app.app_context():
        period = clock.today().strftime("%Y-%m")

    def figures():
        resp = supervisor.get(f"/api/v1/quality/overview?period={period}&group=contracting")
        assert resp.status_code == 200, resp.json
        return {i["id"]: (i["numerator"], i["denominator"]) for i in resp.json["indicators"]}
    before = figures()
    assert before["contract_coverage"] == (0, 1) and before["contract_fulfilment_rate"] == (0, 0)
    got = signed_htn_contract(app, client, w)
    after = figures()
    assert after["contract_coverage"] == (1, 1) and after["key_group_contract_coverage"] == (1, 1)
    assert after["paid_package_rate"] == (1, 1)
    labs = {i["service_code"]: i for i in got["ledger"]}["htn_annual_labs"]
    assert w["village"].post(f"/api/v1/contracts/{got['id']}/deliveries",
                             json={"item_id": labs["item_id"]}).status_code == 201
    assert figures()["contract_fulfilment_rate"] == (1, 1)


def test_the_demo_seed_shows_contracts_in_several_states(app, world, login_as):
    from sqlalchemy import select

    from app.auth.services import find_user, principal_for
    from app.contracting.models import Contract
    from app.core.db import session
    from app.seed.contracting import seed_contracts
    from app.tasks.completion import complete
    login_as("village_doctor", org="C01T01V01", username="village_doctor1")
    for n in range(11):
        make_resident(app, name=f"居民{n}", seed=100 + n)

    def done(username, task, data):
        return complete(principal_for(find_user(username)), task.id, data=data)
    from app.jobs import queue
    with app.app_context(), queue.inline():
        assert seed_contracts(done) == {"contracts": 4}
        statuses = sorted(session().scalars(select(Contract.status)))
        assert statuses == ["active", "awaiting_payment", "awaiting_signature", "requested"]
        assert seed_contracts(done) == {}
    flagged = world["admin"].get("/api/v1/contract-payments/flagged").json
    assert [f["flag"] for f in flagged] == ["amount_short"]


def test_the_resident_record_shows_the_contract_its_ledger_and_next_due_items(app, client, world):
    w = world
    got = signed_htn_contract(app, client, w)
    resp = w["village"].get(f"/api/v1/residents/{w['resident']}/contract")
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["active"]["contract_no"] == got["contract_no"] and body["active"]["status_label"] == "履约中"
    assert [p["name"] for p in body["active"]["packages"]] == ["基础包", "高血压个性化包"]
    follow = {i["service_code"]: i for i in body["active"]["ledger"]}["htn_home_follow_up"]
    assert follow["delivered"] == 0 and follow["remaining"] == 4
    due = [i["next_due_on"] for i in body["next_due"]]
    assert 0 < len(due) <= 3 and due == sorted(due)
    assert body["last_ended"] is None and body["pending"] is None
    # outside the caller's scope: 404, not an empty section
    assert w["other_village"].get(f"/api/v1/residents/{w['resident']}/contract").status_code == 404
