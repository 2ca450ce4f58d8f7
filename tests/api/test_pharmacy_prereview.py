"""Issue 18.1 `rx_prereview` (前置审方) through the API: an e-prescription with a supervised drug arrives by signed
webhook, is checked through the DMN pack and auto-passes, or goes to the county review centre's pharmacist (SLA
escalation), who passes, intervenes (the prescriber's modified version re-enters review in the same instance) or
refuses; the prescriber's insistence needs a second pharmacist's signature. Every state is a row on the trace."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock, ratelimit
from tests.pharmacy_support import allow_auto_pass, deploy_pharmacy_models, id_number_of, make_prescriber, rx
from tests.referral_support import arrival, complete, count, make_resident, one, open_tasks
from tests.test_follow_up_support import tick

RIVA_20 = [{"drug": "rivaroxaban", "dose_mg": 20, "frequency": "qd", "days": 7}]


@pytest.fixture()
def world(app, county, login_as):
    deploy_pharmacy_models(app)
    with app.app_context():
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=20, burst=100).reset()
    from app.auth.services import create_client
    with app.app_context():
        client, secret = create_client("县人民医院 HIS")
    make_prescriber(app, "李医生", "C01T01V01")
    allow_auto_pass(app, "C01", "rivaroxaban")       # the county lets a clean rivaroxaban prescription pass
    return {"resident": make_resident(app), "id_number": id_number_of(),
            "his": {"client_id": client.client_id, "secret": secret},
            "pharmacist": login_as("pharmacist", org="C01", username="pharm_a"),
            "pharmacist2": login_as("pharmacist", org="C01", username="pharm_b"),
            "village": login_as("village_doctor", org="C01T01V01"),
            "other_township": login_as("township_doctor", org="C01T02")}


def send(client, w, body, webhook_id):
    return arrival(client, w["his"], body, webhook_id, message="rx_created")


def prescription(api, prescription_id: int) -> dict:
    resp = api.get(f"/api/v1/prescriptions/{prescription_id}")
    assert resp.status_code == 200, resp.json
    return resp.json


def states(api, prescription_id: int) -> list[str]:
    return [s["state"] for s in prescription(api, prescription_id)["states"]]


def test_a_prescription_without_warnings_passes_automatically_and_its_result_is_owed_to_the_his(app, client, world):
    w = world
    resp = send(client, w, rx(w["id_number"], "RX-1", RIVA_20, clinical={"crcl_ml_min": 80}), "d-1")
    assert resp.status_code == 200, resp.json
    assert resp.json["grade"] == "none"
    got = prescription(w["pharmacist"], resp.json["prescription_id"])
    assert got["status"] == "passed" and got["status_label"] == "通过"
    assert [s["label"] for s in got["states"]] == ["开具", "审核中", "通过"]
    assert got["states"][-1]["actor"] == "system" and got["review_org_code"] == "C01"
    assert [(r["outcome"], r["status"]) for r in got["results"]] == [("passed", "pending")]
    assert not open_tasks(w["pharmacist"], "pharmacist_review")


def test_a_warning_goes_to_the_county_pharmacist_who_passes_it_and_an_overdue_review_is_escalated(
        app, client, world):
    w = world
    body = rx(w["id_number"], "RX-2", [{"drug": "warfarin", "dose_mg": 3, "frequency": "qd"}],
              concomitant=["amiodarone"], clinical={"inr": 2.4, "inr_date": clock.today().isoformat()})
    resp = send(client, w, body, "d-2")
    assert resp.status_code == 200 and resp.json["grade"] == "warn", resp.json
    rx_id = resp.json["prescription_id"]
    got = prescription(w["pharmacist"], rx_id)
    assert [(f["code"], f["grade"], f["rule"]) for f in got["findings"]] == [
        ("warfarin_interaction", "warn", "warfarin_interaction")]
    task = one(w["pharmacist"], "pharmacist_review")
    assert task["org_code"] == "C01" and "胺碘酮" in task["instructions"]
    assert "华法林 3 mg 每日1次" in task["instructions"] and "非瓣膜性房颤" in task["instructions"]
    assert "【警示】" in task["instructions"] and "NVAF" not in task["instructions"]
    assert not open_tasks(w["village"], "pharmacist_review")
    clock.advance(timedelta(minutes=6))
    tick(app)
    assert "escalated" in states(w["pharmacist"], rx_id)
    complete(w["pharmacist"], task, {"decision": "pass"})
    got = prescription(w["pharmacist"], rx_id)
    assert got["status"] == "passed"
    assert got["states"][-1]["actor"] == "pharm_a"
    assert [s["state"] for s in got["states"]] == ["issued", "reviewing", "escalated", "passed"]


def test_a_block_is_intervened_and_the_modified_version_reenters_review_in_the_same_instance(app, client, world):
    w = world
    body = rx(w["id_number"], "RX-3", [*RIVA_20, {"drug": "warfarin", "dose_mg": 3, "frequency": "qd"}],
              clinical={"crcl_ml_min": 80, "inr_date": clock.today().isoformat()})
    resp = send(client, w, body, "d-3")
    assert resp.json["grade"] == "block", resp.json
    rx_id = resp.json["prescription_id"]
    instance_id = prescription(w["pharmacist"], rx_id)["instance_id"]
    bad = w["pharmacist"].post(f"/api/v1/tasks/{one(w['pharmacist'], 'pharmacist_review')['id']}/complete",
                               json={"data": {"decision": "intervene"}})
    assert bad.status_code == 422, bad.json          # an intervention names its problems and opinion
    complete(w["pharmacist"], one(w["pharmacist"], "pharmacist_review"),
             {"decision": "intervene", "problems": ["duplicate"], "opinion": "利伐沙班与华法林重复抗凝，请停用华法林"})
    assert prescription(w["village"], rx_id)["status"] == "intervened"
    reply = one(w["village"], "prescriber_reply")
    assert "重复抗凝" in reply["instructions"]
    complete(w["village"], reply, {"action": "modify", "items": RIVA_20, "reason": "停用华法林"})
    got = prescription(w["pharmacist"], rx_id)
    assert got["version"] == 2 and got["instance_id"] == instance_id and got["findings"] == []
    assert [(s["state"], s["version"]) for s in got["states"]] == [
        ("issued", 1), ("reviewing", 1), ("intervened", 1), ("modified", 2), ("reviewing", 2), ("passed", 2)]
    assert got["states"][0]["version_hash"] != got["states"][-1]["version_hash"]
    # the earlier version keeps its lines, not only its hash: the timeline shows what changed
    v1, v2 = got["versions"]
    assert [i["text"] for i in v1["items"]] == ["利伐沙班 20 mg 每日1次", "华法林 3 mg 每日1次"]
    assert (v1["grade"], v1["version_hash"]) == ("block", got["states"][0]["version_hash"])
    assert [i["text"] for i in v2["items"]] == ["利伐沙班 20 mg 每日1次"] and v2["grade"] == "none"
    assert v2["changes"] == ["停用 华法林 3 mg 每日1次"] and v2["author_name"]
    assert [r["outcome"] for r in got["results"]] == ["passed"]


def test_the_prescribers_insistence_needs_a_second_pharmacist_to_sign(app, client, world):
    w = world
    resp = send(client, w, rx(w["id_number"], "RX-4", RIVA_20, clinical={"crcl_ml_min": 40}), "d-4")
    assert resp.json["grade"] == "warn"
    rx_id = resp.json["prescription_id"]
    finding = prescription(w["pharmacist"], rx_id)["findings"][0]
    assert finding["code"] == "dose_not_as_recommended" and finding["recommended"] == "15mg_qd"
    assert "利伐沙班 20 mg 每日1次 与推荐剂量 15 mg 每日1次" in finding["message"]
    complete(w["pharmacist"], one(w["pharmacist"], "pharmacist_review"),
             {"decision": "intervene", "problems": ["dose"], "opinion": "CrCl 40，建议 15 mg qd",
              "suggested_dose": "15 mg qd"})
    reply = one(w["village"], "prescriber_reply")
    missing = w["village"].post(f"/api/v1/tasks/{reply['id']}/complete", json={"data": {"action": "insist"}})
    assert missing.status_code == 422, missing.json    # insisting needs a reason
    complete(w["village"], reply, {"action": "insist", "reason": "患者体重大，近期复查肾功能好转"})
    assert prescription(w["pharmacist"], rx_id)["status"] == "insisted"
    second = one(w["pharmacist2"], "double_sign")
    assert not [t for t in w["pharmacist"].get("/api/v1/tasks?view=groups").json["items"]
                if t["element_id"] == "double_sign"]
    refused = w["pharmacist"].post(f"/api/v1/tasks/{second['id']}/complete",
                                   json={"data": {"second_decision": "pass"}})
    assert refused.status_code == 403 and refused.json["code"] == "separation_of_duties"
    complete(w["pharmacist2"], second, {"second_decision": "pass", "second_opinion": "同意，3天后复查肾功能"})
    got = prescription(w["pharmacist"], rx_id)
    assert got["status"] == "passed"
    assert [s["state"] for s in got["states"]] == ["issued", "reviewing", "intervened", "insisted", "passed"]
    assert got["states"][-1]["detail"]["signatures"] == ["pharm_a", "pharm_b"]


def test_a_resent_prescription_answers_the_same_one_and_bad_input_is_refused_with_nothing_half_made(
        app, client, world):
    from app.pharmacy.models import Prescription, PrescriptionState
    from app.workflows.models import ProcessInstance
    w = world
    body = rx(w["id_number"], "RX-5", RIVA_20, clinical={"crcl_ml_min": 80})
    first = send(client, w, body, "d-5")
    again = send(client, w, body, "d-6")
    assert again.status_code == 200 and again.json["prescription_id"] == first.json["prescription_id"]
    before = (count(app, Prescription), count(app, PrescriptionState), count(app, ProcessInstance))
    cases = [
        ({**body, "rx_id": "RX-6", "id_number": id_number_of(seed=99)}, 422, "unknown_resident"),
        ({**body, "rx_id": "RX-7", "items": [{"drug": "aspirin", "dose_mg": 100, "frequency": "qd"}]}, 422,
         "no_supervised_drug"),
        ({**body, "rx_id": "RX-8", "items": [*RIVA_20, {"drug": "unknownium", "dose_mg": 1, "frequency": "qd"}]},
         422, "unknown_drug"),
        ({**body, "rx_id": "RX-9", "org_code": "X99"}, 404, "organization_not_found"),
        ({k: v for k, v in body.items() if k != "items"} | {"rx_id": "RX-10"}, 422, "schema_error"),
        ({**body, "rx_id": "RX-11", "items": [{"drug": "rivaroxaban", "dose_mg": -1, "frequency": "qd"}]}, 422,
         "schema_error"),
    ]
    for n, (payload, status, code) in enumerate(cases):
        resp = send(client, w, payload, f"bad-{n}")
        assert (resp.status_code, resp.json["code"]) == (status, code), (n, resp.json)
    assert (count(app, Prescription), count(app, PrescriptionState), count(app, ProcessInstance)) == before
    assert w["other_township"].get(f"/api/v1/prescriptions/{first.json['prescription_id']}").status_code == 404
    assert w["pharmacist"].get("/api/v1/prescriptions/999999").json["code"] == "prescription_not_found"


def test_a_prescription_read_is_audited(app, client, world):
    from app.audit.models import AuditEntry
    w = world
    first = send(client, w, rx(w["id_number"], "RX-12", RIVA_20, clinical={"crcl_ml_min": 80}), "d-12")
    before = count(app, AuditEntry, object_type="prescription")
    prescription(w["pharmacist"], first.json["prescription_id"])
    assert count(app, AuditEntry, object_type="prescription") == before + 1


def test_a_final_result_is_sent_to_the_his_once(app, client, world, monkeypatch):
    from connectors.his import prescriptions as his
    from tests.api.test_connectors import _server
    w = world
    first = send(client, w, rx(w["id_number"], "RX-13", RIVA_20, clinical={"crcl_ml_min": 80}), "d-13")
    with app.app_context():
        assert his.push() == 0                                       # no HIS configured: the result stays pending
    server = _server(monkeypatch, "his", {"/prescriptions/results": (200, {})})
    try:
        with app.app_context():
            assert his.push() == 1
            assert his.push() == 0
        [sent] = server.requests
        assert sent["json"]["rx_id"] == "RX-13" and sent["json"]["outcome"] == "passed"
        [result] = prescription(w["pharmacist"], first.json["prescription_id"])["results"]
        assert result["status"] == "sent" and result["sent_at"]
    finally:
        server.close()


WARFARIN_OK = [{"drug": "warfarin", "dose_mg": 3, "frequency": "qd", "days": 7}]


def _fresh_inr() -> dict:
    return {"inr": 2.4, "inr_date": clock.today().isoformat()}


def test_auto_pass_is_off_by_default_so_a_clean_prescription_still_goes_to_the_pharmacist(app, client, world):
    w = world
    resp = send(client, w, rx(w["id_number"], "RX-AP1", WARFARIN_OK, clinical=_fresh_inr()), "d-ap1")
    assert resp.status_code == 200 and resp.json["grade"] == "none", resp.json
    got = prescription(w["pharmacist"], resp.json["prescription_id"])
    assert got["findings"] == [] and got["status"] == "reviewing"
    assert one(w["pharmacist"], "pharmacist_review")["org_code"] == "C01"


def test_switched_on_for_a_class_at_an_organisation_a_clean_prescription_passes_and_a_closer_setting_wins(
        app, client, world, login_as):
    from app.audit.models import AuditEntry
    w = world
    admin = login_as("county_admin", org="C01")
    view = admin.get("/api/v1/prescriptions/auto-pass", query_string={"org_code": "C01T01V01"})
    assert view.status_code == 200, view.json
    by_class = {r["drug_class"]: r for r in view.json}
    assert (by_class["warfarin"]["enabled"], by_class["warfarin"]["source"]) == (False, "default")
    assert (by_class["rivaroxaban"]["enabled"], by_class["rivaroxaban"]["source"]) == (True, "inherited")
    assert by_class["lmwh"]["class_label"].startswith("低分子肝素") and by_class["rivaroxaban"]["from_org_name"]
    before = count(app, AuditEntry, action="rx.auto_pass")
    put = admin.put("/api/v1/prescriptions/auto-pass",
                    json={"org_code": "C01T01V01", "drug_class": "warfarin", "enabled": True})
    assert put.status_code == 200, put.json
    assert {r["drug_class"]: (r["enabled"], r["source"]) for r in put.json}["warfarin"] == (True, "own")
    assert count(app, AuditEntry, action="rx.auto_pass") == before + 1
    resp = send(client, w, rx(w["id_number"], "RX-AP2", WARFARIN_OK, clinical=_fresh_inr()), "d-ap2")
    got = prescription(w["pharmacist"], resp.json["prescription_id"])
    assert got["status"] == "passed" and got["states"][-1]["actor"] == "system"
    # the township switches rivaroxaban off for itself: closer than the county's setting, so its village's
    # clean rivaroxaban prescription goes to the pharmacist
    assert w["pharmacist"].put("/api/v1/prescriptions/auto-pass", json={
        "org_code": "C01T01", "drug_class": "rivaroxaban", "enabled": False}).status_code == 200
    resp = send(client, w, rx(w["id_number"], "RX-AP3", RIVA_20, clinical={"crcl_ml_min": 80}), "d-ap3")
    assert prescription(w["pharmacist"], resp.json["prescription_id"])["status"] == "reviewing"
    # both drug classes of a prescription must be switched on
    assert w["village"].put("/api/v1/prescriptions/auto-pass", json={
        "org_code": "C01T01V01", "drug_class": "lmwh", "enabled": True}).status_code == 403
    bad = admin.put("/api/v1/prescriptions/auto-pass", json={"org_code": "X99", "drug_class": "lmwh", "enabled": True})
    assert (bad.status_code, bad.json["code"]) == (422, "unknown_org_code")
    bad = admin.put("/api/v1/prescriptions/auto-pass", json={"org_code": "C01", "drug_class": "aspirin", "enabled": True})
    assert bad.status_code == 422


def test_legality_blocks_an_unsigned_prescription_by_an_unknown_prescriber_before_appropriateness(app, client, world):
    w = world
    body = {k: v for k, v in rx(w["id_number"], "RX-L1", RIVA_20, clinical={"crcl_ml_min": 80},
                                prescriber="不存在的医生").items() if k != "signature"}
    resp = send(client, w, body, "d-l1")
    # the webhook answers at receipt (the appropriateness checks); R6a runs as the process's first step
    assert resp.status_code == 200 and resp.json["grade"] == "none", resp.json
    got = prescription(w["pharmacist"], resp.json["prescription_id"])
    assert got["grade"] == "block"
    assert [(f["code"], f["grade"], f["rule"]) for f in got["findings"]] == [
        ("legality_prescriber_unknown", "block", "rx_legality"), ("legality_unsigned", "block", "rx_legality")]
    assert got["findings"][0]["rule_version"] and got["status"] == "reviewing"   # never auto-passed
    task = one(w["pharmacist"], "pharmacist_review")
    assert "【禁止】处方缺少医师电子签名" in task["instructions"]


@pytest.mark.parametrize(("extra", "codes"), [
    ({"issued_on": "YESTERDAY"}, ["legality_expired"]),
    ({"issued_on": "YESTERDAY", "valid_days": 3}, []),
    ({"valid_days": 5}, ["legality_extension_too_long"]),
    ({"items": [{**RIVA_20[0], "days": 14}]}, ["legality_quantity_over_7d"]),
    ({"items": [{**RIVA_20[0], "days": 56}], "long_term": True}, ["legality_long_term_not_eligible"]),
    ({"prescriber_code": "dr_other_org"}, ["legality_not_at_org"]),
    ({"prescriber_code": "dr_withdrawn"}, ["legality_no_privilege"]),
])
def test_legality_findings_from_real_staff_data_and_the_prescription_dates(app, client, world, extra, codes):
    w = world
    make_prescriber(app, "王医生", "C01T02V01", username="dr_other_org")
    make_prescriber(app, "赵医生", "C01T01V01", username="dr_withdrawn", privilege=False)
    extra = dict(extra)
    if extra.get("issued_on") == "YESTERDAY":
        extra["issued_on"] = (clock.today() - timedelta(days=1)).isoformat()
    items = extra.pop("items", RIVA_20)
    resp = send(client, w, rx(w["id_number"], "RX-L2", items, clinical={"crcl_ml_min": 80}, **extra), "d-l2")
    assert resp.status_code == 200, resp.json
    got = prescription(w["pharmacist"], resp.json["prescription_id"])
    assert [f["code"] for f in got["findings"]] == codes
    assert got["status"] == ("passed" if not codes else "reviewing")
