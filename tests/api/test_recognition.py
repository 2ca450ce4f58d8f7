"""Issue 17.5 (M20): the cross-institution record (全网记录) and result mutual recognition (互认) through the API:
who may read the network record (scope, or an open referral; 404 otherwise; every read audited), the 互认 marks,
the HIS's `order_created` / `order_answered` webhooks (synchronous answer, idempotent by order id, clear error
codes), the clinician's check before ordering, and the indicators counting repeats, reasons and avoided repeats."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core import clock, ratelimit
from tests.helpers import REPO
from tests.pharmacy_support import id_number_of
from tests.referral_support import arrival, make_resident

HBA1C = "4548-4"


@pytest.fixture()
def world(app, county, login_as):
    from app.auth.services import create_client
    from app.core.db import unit_of_work
    from app.recognition.models import Accreditation
    from app.residents import intake
    from app.workflows.deploy import collect_folder_files, deploy_files
    from connectors.pacs.models import RecordLink
    with app.app_context():
        deploy_files(collect_folder_files(REPO, [REPO / "dmn"]), deployed_by="test", source="folder")
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=20, burst=100).reset()
        client, secret = create_client("县人民医院 HIS")
    resident = make_resident(app)
    now = clock.now()
    with app.app_context():
        with unit_of_work() as s:
            today = clock.today()
            for org, cls, code in (("C01", "lab", "*"), ("C01", "imaging", "*"), ("C01T02", "lab", "1558-6")):
                s.add(Accreditation(org_code=org, item_class=cls, item_code=code, programme="省质控合格",
                                    valid_from=today - timedelta(days=400), valid_to=None, updated_at=now))
            s.add(RecordLink(resident_id=resident, kind="imaging_study", system="pacs", external_id="1.2.3.4",
                             title="胸部CT平扫", modality="CT", viewer_url="https://pacs.example/viewer?s=1.2.3.4",
                             report_text="双肺纹理增多", performed_at=now - timedelta(days=5), org_code="C01",
                             created_at=now, updated_at=now))
        facts = [intake.ObservationFact(code=HBA1C, value=7.2, unit="%", effective_at=now - timedelta(days=20),
                                        org_code="C01", client_id="t-hba1c"),
                 intake.ObservationFact(code="13457-7", value=3.1, unit="mmol/L",
                                        effective_at=now - timedelta(days=3), org_code="C01T02", client_id="t-ldl"),
                 intake.ObservationFact(code="2160-0", value=88, unit="umol/L",
                                        effective_at=now - timedelta(days=20), org_code="C01", client_id="t-scr")]
        intake.submit(resident, facts, source="lis", actor="test")
    return {"resident": resident, "id_number": id_number_of(),
            "his": {"client_id": client.client_id, "secret": secret},
            "township": login_as("township_doctor", org="C01T01", username="td_home"),
            "other": login_as("township_doctor", org="C01T02", username="td_other"),
            "trainer": login_as("trainer", org="C01")}


def record(api, resident_id):
    return api.get(f"/api/v1/recognition/residents/{resident_id}/network-record")


def by_title(body):
    return {i["title"]: i for i in body["items"]}


def send(client, w, message, body, webhook_id):
    return arrival(client, w["his"], body, webhook_id, message=message)


def order(w, order_id="O-1", **extra):
    return {"id_number": w["id_number"], "order_id": order_id, "org_code": "C01T01", "orderer": "张医生",
            "item_class": "lab", "item_code": HBA1C, **extra}


def test_the_network_record_shows_each_result_with_its_source_and_the_recognition_mark(app, world):
    resp = record(world["township"], world["resident"])
    assert resp.status_code == 200, resp.json
    items = by_title(resp.json)
    assert resp.json["access"]["kind"] == "scope" and resp.json["rules_available"] is True
    hba1c = items["糖化血红蛋白"]
    assert hba1c["org_name"] == "青溪县人民医院" and hba1c["value"] == "7.2 %"
    assert hba1c["recognition"]["recognised"] and hba1c["recognition"]["label"] == "互认"
    assert hba1c["recognition"]["valid_until"] == (clock.today() - timedelta(days=20) + timedelta(days=89)).isoformat()
    ldl = items["LDL-C"]
    assert ldl["recognition"]["code"] == "not_accredited"
    assert items["血肌酐"]["recognition"]["code"] == "expired"         # 14-day window, 20 days old
    ct = items["胸部CT平扫"]
    assert ct["kind"] == "imaging" and ct["viewer_url"].startswith("https://pacs.example")
    assert ct["recognition"]["recognised"]


def test_outside_scope_without_an_open_referral_the_record_does_not_exist_and_with_one_it_is_readable(app, world):
    from app.audit.models import AuditEntry
    from app.core.db import session, unit_of_work
    from app.org.queries import find_org
    from app.referral.models import Referral
    assert record(world["other"], world["resident"]).status_code == 404
    assert record(world["trainer"], world["resident"]).status_code == 403
    with app.app_context(), unit_of_work() as s:
        to = find_org("C01T02")
        s.add(Referral(referral_no="SZ202612040001", direction="down", status="offered", resident_id=world["resident"],
                       source="manual", to_org_code="C01T02", to_org_path=to.path, from_org_code="C01",
                       from_org_path=find_org("C01").path, requested_at=clock.now(), updated_at=clock.now()))
    resp = record(world["other"], world["resident"])
    assert resp.status_code == 200, resp.json
    assert resp.json["access"]["kind"] == "referral" and "SZ202612040001" in resp.json["access"]["label"]
    with app.app_context(), unit_of_work() as s:
        s.execute(Referral.__table__.update().values(status="completed"))
    assert record(world["other"], world["resident"]).status_code == 404
    with app.app_context():
        reads = session().scalars(select(AuditEntry).where(AuditEntry.action == "phi.read",
                                                           AuditEntry.object_type == "network_record")).all()
        assert [r.actor for r in reads] == ["td_other"]


def test_a_his_repeat_order_inside_the_window_is_answered_with_the_recognised_result_and_asks_a_reason(
        app, client, world):
    resp = send(client, world, "order_created", order(world), "d-1")
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["recognition_status"] == "awaiting_reason" and body["reason_required"] is True
    assert [r["org_name"] for r in body["recognised"]] == ["青溪县人民医院"]
    assert {r["code"] for r in body["reasons"]} >= {"condition_changed", "other"}
    again = send(client, world, "order_created", order(world), "d-2")          # another delivery, same order id
    assert again.json["recognition_order_id"] == body["recognition_order_id"]
    no_reason = send(client, world, "order_answered", {"order_id": "O-1", "action": "keep"}, "d-3")
    assert no_reason.status_code == 422 and no_reason.json["code"] == "reason_required"
    other = send(client, world, "order_answered", {"order_id": "O-1", "action": "keep", "reason_code": "other"}, "d-4")
    assert other.status_code == 422 and other.json["code"] == "reason_note_required"
    kept = send(client, world, "order_answered",
                {"order_id": "O-1", "action": "keep", "reason_code": "condition_changed", "answered_by": "张医生"}, "d-5")
    assert kept.status_code == 200 and kept.json["recognition_status"] == "kept"
    twice = send(client, world, "order_answered", {"order_id": "O-1", "action": "withdraw"}, "d-6")
    assert twice.status_code == 409 and twice.json["code"] == "order_not_awaiting_reason"
    orders = record(world["township"], world["resident"]).json["orders"]
    assert [(o["status"], o["reason_label"], o["answered_by"]) for o in orders] == [
        ("kept", "病情变化，原结果与当前临床表现不符", "张医生")]


def test_an_order_without_a_recognised_result_needs_no_reason(app, client, world):
    resp = send(client, world, "order_created", order(world, "O-2", item_code="2160-0"), "d-10")   # expired
    assert resp.status_code == 200 and resp.json["recognition_status"] == "clear"
    assert resp.json["recognised"] == [] and resp.json["reason_required"] is False
    ahead = send(client, world, "order_created",
                 order(world, "O-3", reason_code="major_procedure"), "d-11")                     # reason up front
    assert ahead.json["recognition_status"] == "kept"


@pytest.mark.parametrize(("payload", "status", "code"), [
    ({"item_code": "9999-9"}, 422, "unknown_item"),
    ({"item_class": "imaging", "item_code": "ct scan"}, 422, "unknown_item"),
    ({"item_class": "pathology"}, 422, "schema_error"),
    ({"org_code": "NOPE"}, 422, "unknown_org"),
    ({"id_number": "110101199003070000"}, 422, "unknown_resident"),
    ({"reason_code": "because"}, 422, "schema_error"),
    ({"ordered_at": "2026-12-04 08:00"}, 422, "schema_error"),
])
def test_bad_orders_are_refused_with_a_clear_code_and_record_nothing(app, client, world, payload, status, code):
    from app.core.db import session
    from app.recognition.models import RecognitionOrder
    resp = send(client, world, "order_created", {**order(world, "O-bad"), **payload}, f"bad-{code}-{len(str(payload))}")
    assert resp.status_code == status and resp.json["code"] == code, resp.json
    with app.app_context():
        assert session().scalars(select(RecognitionOrder)).all() == []


def test_an_answer_to_an_unknown_order_is_404(app, client, world):
    resp = send(client, world, "order_answered", {"order_id": "never", "action": "withdraw"}, "d-20")
    assert resp.status_code == 404 and resp.json["code"] == "unknown_order_id"


def test_a_clinician_checks_before_ordering_withdraws_and_the_indicators_count_it(app, client, world):
    api = world["township"]
    url = f"/api/v1/recognition/residents/{world['resident']}/order-checks"
    resp = api.post(url, json={"request_id": "req-00000001", "item_class": "lab", "item_code": HBA1C})
    assert resp.status_code == 201, resp.json
    assert resp.json["status"] == "awaiting_reason" and resp.json["matched"][0]["value"] == "7.2 %"
    assert api.post(url, json={"request_id": "req-00000001", "item_class": "lab",
                               "item_code": HBA1C}).json["id"] == resp.json["id"]
    blocked = world["other"].post(url, json={"request_id": "req-00000002", "item_class": "lab", "item_code": HBA1C})
    assert blocked.status_code == 404
    foreign = world["other"].post(f"/api/v1/recognition/orders/{resp.json['id']}/answer", json={"action": "withdraw"})
    assert foreign.status_code == 404
    done = api.post(f"/api/v1/recognition/orders/{resp.json['id']}/answer", json={"action": "withdraw"})
    assert done.status_code == 200 and done.json["status"] == "withdrawn"
    kept = api.post(url, json={"request_id": "req-00000003", "item_class": "imaging", "item_code": "CT",
                               "reason_code": "patient_request"})
    assert kept.json["status"] == "kept"
    api.post(url, json={"request_id": "req-00000004", "item_class": "lab", "item_code": "1558-6"})   # none: clear
    api.post(url, json={"request_id": "req-00000005", "item_class": "imaging", "item_code": "CT"})   # unanswered
    period = clock.today().strftime("%Y-%m")
    got = world["township"].get(f"/api/v1/quality/overview?period={period}&group=recognition")
    assert got.status_code == 200, got.json
    figs = {i["id"]: (i["numerator"], i["denominator"]) for i in got.json["indicators"]}
    assert figs["recognition_repeat_orders"][0] == 3
    assert figs["recognition_avoided_repeats"][0] == 1
    assert figs["recognition_repeat_reason_rate"] == (1, 2)
    assert figs["recognition_avoided_rate"] == (1, 3)


def test_the_demo_seed_shows_recognised_shared_and_expired_results_and_two_checked_orders(app, county, login_as):
    from app.seed.recognition import seed_recognition
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, [REPO / "dmn"]), deployed_by="test", source="folder")
    resident = make_resident(app)
    with app.app_context():
        assert seed_recognition()["recognition_orders"] == 2
        assert seed_recognition() == {}
    body = record(login_as("township_doctor", org="C01T01"), resident).json
    names = county["names"]
    marks = {i["title"]: (i["org_name"], i["recognition"]["code"] if i["recognition"] else None) for i in body["items"]}
    assert marks == {"糖化血红蛋白": (names["C01"], "recognised"), "LDL-C": (names["C01T02"], "not_accredited"),
                     "血肌酐": (names["C01"], "expired"), "胸部CT平扫": (names["C01"], "recognised"),
                     "常规十二导联心电图": (names["C01T01"], "not_listed"), "出院小结（心内科）": (names["C01D01"], None)}
    assert sorted(o["status"] for o in body["orders"]) == ["kept", "withdrawn"]


def test_an_administrator_accredits_a_township_lab_and_its_result_becomes_recognised(app, world, login_as, county):
    admin = login_as("county_admin", org="C01")
    body = {"org_code": "C01T02", "item_class": "lab", "item_code": "13457-7", "programme": "省临检中心室间质评合格",
            "valid_from": (clock.today() - timedelta(days=30)).isoformat()}
    assert world["township"].put("/api/v1/recognition/accreditations", json=body).status_code == 403
    bad = admin.put("/api/v1/recognition/accreditations", json={**body, "item_code": "9999-9"})
    assert bad.status_code == 422 and bad.json["code"] == "unknown_item"
    backwards = admin.put("/api/v1/recognition/accreditations",
                          json={**body, "valid_to": (clock.today() - timedelta(days=60)).isoformat()})
    assert backwards.status_code == 422 and backwards.json["code"] == "invalid_period"
    saved = admin.put("/api/v1/recognition/accreditations", json=body)
    assert saved.status_code == 200 and saved.json["item_name"] == "LDL-C", saved.json
    listed = world["township"].get("/api/v1/recognition/accreditations").json["items"]
    assert {(a["org_code"], a["item_code"]) for a in listed} >= {("C01", "*"), ("C01T02", "13457-7")}
    ldl = by_title(record(world["township"], world["resident"]).json)["LDL-C"]
    assert ldl["recognition"]["recognised"] and ldl["org_name"] == county["names"]["C01T02"]
