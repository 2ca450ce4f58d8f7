"""/api/v1/supply through HTTP: the keeper sees stock with its policy and alerts, a scan is refused with its reason,
a used serial is refused, and the recall search names the patients in the caller's scope."""
from __future__ import annotations

import uuid
from datetime import timedelta

from app.core import clock
from app.supply import services
from tests.supply_support import STENT_BAD, STENT_GTIN, stent_udi, stores  # noqa: F401  (fixture)
from tests.test_follow_up_support import make_resident


def stock_stents(app, quantity: int = 2) -> None:
    with app.app_context():
        services.receive("IC-C01", "STENT-DES", quantity=quantity, lot_no="L2301", consignment=True, actor="keeper",
                         expiry_on=clock.today() + timedelta(days=400))


def test_keeper_records_a_receipt_and_sees_the_stock(app, login_as, stores):  # noqa: F811
    keeper = login_as("pharmacist", org="C01")
    body = {"kind": "receipt", "item_code": "WARF-25", "quantity": 12, "lot_no": "W1", "expiry_on": "2028-06-30",
            "supplier": "国药控股", "client_id": str(uuid.uuid4())}
    first = keeper.post("/api/v1/supply/stores/PH-C01/movements", json=body)
    assert first.status_code == 201, first.json
    assert keeper.post("/api/v1/supply/stores/PH-C01/movements", json=body).status_code == 201   # repeat acts once
    stock = keeper.get("/api/v1/supply/stores/PH-C01/stock").json
    [line] = stock["items"]
    assert line["item"]["name"] == "华法林钠片 2.5mg" and line["policy"]["on_hand"] == 12
    assert line["lots"][0]["lot_no"] == "W1"


def test_an_issue_beyond_stock_is_409(app, login_as, stores):  # noqa: F811
    keeper = login_as("pharmacist", org="C01")
    response = keeper.post("/api/v1/supply/stores/PH-C01/movements",
                           json={"kind": "issue", "item_code": "WARF-25", "quantity": 1})
    assert response.status_code == 409 and response.json["code"] == "insufficient_stock"


def test_a_scan_with_a_bad_check_digit_is_refused_with_the_reason(app, login_as, stores):  # noqa: F811
    stock_stents(app)
    resident = make_resident(app)
    doctor = login_as("county_specialist", org="C01D01")
    check = doctor.post("/api/v1/supply/udi/check", json={"code": stent_udi("S1", gtin=STENT_BAD)})
    assert check.status_code == 422 and check.json["code"] == "udi_bad_check_digit"
    use = doctor.post("/api/v1/supply/udi/uses", json={"code": stent_udi("S1", gtin=STENT_BAD),
                                                      "store_code": "IC-C01", "resident_id": resident,
                                                      "case_ref": "IC-1"})
    assert use.status_code == 422 and use.json["details"]["expected"] == "2"


def test_a_used_serial_is_refused_the_second_time(app, login_as, stores):  # noqa: F811
    stock_stents(app)
    resident = make_resident(app)
    doctor = login_as("county_specialist", org="C01D01")
    body = {"code": stent_udi("S1"), "store_code": "IC-C01", "resident_id": resident, "case_ref": "IC-1"}
    first = doctor.post("/api/v1/supply/udi/uses", json=body)
    assert first.status_code == 201 and first.json["item"]["code"] == "STENT-DES"
    again = doctor.post("/api/v1/supply/udi/uses", json=body)
    assert again.status_code == 409 and again.json["code"] == "udi_serial_used"
    preview = doctor.post("/api/v1/supply/udi/check", json={"code": stent_udi("S1"), "store_code": "IC-C01"})
    assert preview.json["refusal"]["code"] == "udi_serial_used"


def test_recall_search_by_scanned_udi_names_the_patients(app, login_as, stores):  # noqa: F811
    stock_stents(app)
    resident = make_resident(app)
    doctor = login_as("county_specialist", org="C01D01")
    doctor.post("/api/v1/supply/udi/uses", json={"code": stent_udi("S1"), "store_code": "IC-C01",
                                                "resident_id": resident, "case_ref": "IC-1"})
    keeper = login_as("pharmacist", org="C01")
    recall = keeper.post("/api/v1/supply/recalls", json={"gtin": STENT_GTIN, "lot": "L2301", "reason": "输送系统断裂",
                                                        "source": "国家药监局", "issued_on": "2026-12-01"})
    assert recall.status_code == 201
    found = keeper.get("/api/v1/supply/recall-search", query_string={"code": stent_udi("S2")}).json
    assert [u["resident_name"] for u in found["uses"]] == ["王建国"] and found["recall"]["reason"] == "输送系统断裂"
    alerts = keeper.get("/api/v1/supply/alerts").json
    assert "recalled_stock" in {a["kind"] for a in alerts}


def test_a_village_doctor_cannot_use_the_supply_api(app, login_as, stores):  # noqa: F811
    village = login_as("village_doctor", org="C01T01V01")
    assert village.get("/api/v1/supply/stores").status_code == 403


def test_a_township_doctor_sees_only_the_township_store(app, login_as, stores):  # noqa: F811
    doctor = login_as("township_doctor", org="C01T01")
    assert [s["code"] for s in doctor.get("/api/v1/supply/stores").json] == ["PH-T01"]
    assert doctor.get("/api/v1/supply/stores/PH-C01/stock").status_code == 404


def test_shortage_register(app, login_as, stores):  # noqa: F811
    keeper = login_as("pharmacist", org="C01")
    made = keeper.post("/api/v1/supply/shortages", json={"item_code": "VITK1", "reason": "生产企业停产",
                                                         "alternative": "改用维生素K1片"})
    assert made.status_code == 201 and made.json["status"] == "active"
    assert [s["item"]["code"] for s in keeper.get("/api/v1/supply/shortages").json] == ["VITK1"]
    done = keeper.post(f"/api/v1/supply/shortages/{made.json['id']}/resolve")
    assert done.json["status"] == "resolved" and keeper.get("/api/v1/supply/shortages").json == []
