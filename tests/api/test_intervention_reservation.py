"""Consumable reservation (耗材预留) of a booked interventional case in the centre's 二级库: the planned stents are
held per lot (reserved lowers what is available, not what is on hand), the intra-operative UDI scan consumes the
reservation, what was not used is released when the operation is recorded, cancelling the case releases it, and
over-reservation is refused whole with a stable code (the task comes back with the reason; the service answers
409 `insufficient_stock`). Another case's reservation cannot be taken by a scan or an issue."""
from __future__ import annotations

import pytest

from app.core import db
from app.supply import queries as supply_queries
from app.supply import services as supply
from app.supply.errors import InsufficientStock, UdiRefused
from app.supply.models import Lot, Reservation
from tests.intervention_support import (  # noqa: F401  (centre_fixture: the `centre` fixture)
    ASSESSMENT,
    STENT_GTIN,
    case_body,
    centre_fixture,
    complete,
    consent,
    open_tasks,
    operation_record,
    stent_udi,
    task,
)

pytestmark = pytest.mark.usefixtures("centre")
STENTS = {"name": "药物洗脱支架", "di": STENT_GTIN, "quantity": 2, "implant": True}


def _booked(w, items=(STENTS,)) -> dict:
    """A case opened, assessed and consented, with its reservation form submitted."""
    c = w["doctor"].post("/api/v1/interventions", json=case_body(w["resident"])).json
    complete(w["doctor"], task(w["doctor"], "pre_assessment"), ASSESSMENT)
    complete(w["doctor"], task(w["doctor"], "patient_consent"), consent(self_pay_acknowledged=True))
    complete(w["doctor"], task(w["doctor"], "reserve_consumables"), {"items": list(items)})
    return c


def _stock(app) -> dict:
    with app.app_context():
        [line] = supply_queries.stock(supply.store("IC-C01"))
        return line


def test_reserved_stents_are_held_consumed_by_the_scan_and_the_rest_released(app, centre):
    w = centre
    c = _booked(w)
    d = w["doctor"].get(f"/api/v1/interventions/{c['id']}").json
    assert d["status"] == "operating"
    assert d["reservation"][0]["lots"] == [{"lot_no": "L2301", "quantity": 2, "expiry_on": d["reservation"][0]
                                            ["lots"][0]["expiry_on"]}]
    line = _stock(app)
    assert (line["policy"]["on_hand"], line["policy"]["reserved"]) == (5, 2)
    assert [(lot["on_hand"], lot["reserved"], lot["available"]) for lot in line["lots"]] == [(5, 2, 3)]
    assert [(r["case_ref"], r["quantity"]) for r in line["reservations"]] == [(c["case_no"], 2)]
    page = w["doctor"].get("/api/v1/supply/stores/IC-C01/stock").json["items"][0]
    assert page["lots"][0]["available"] == 3 and page["reservations"][0]["case_ref"] == c["case_no"]

    # the scan consumes the case's own reservation: on hand and reserved go down together
    resp = w["doctor"].post(f"/api/v1/interventions/{c['id']}/devices", json={"udi": stent_udi("SN7001")})
    assert resp.status_code == 201, resp.json
    line = _stock(app)
    assert (line["lots"][0]["on_hand"], line["lots"][0]["reserved"]) == (4, 1)

    # one stent was enough: recording the operation releases the other
    complete(w["doctor"], task(w["doctor"], "operation_record"), operation_record(implants=1))
    line = _stock(app)
    assert (line["lots"][0]["on_hand"], line["lots"][0]["reserved"], line["reservations"]) == (4, 0, [])
    with app.app_context():
        states = sorted((r.status, r.consumed) for r in db.session().query(Reservation))
        assert states == [("released", 1)]
    log = w["doctor"].get(f"/api/v1/interventions/{c['id']}").json["timeline"]
    assert any("未使用的预留 1 件已释放" in e["text"] for e in log)


def test_over_reservation_is_refused_whole_and_the_task_comes_back(app, centre):
    w = centre
    c = _booked(w, items=(STENTS, {**STENTS, "quantity": 4}))       # 6 of 5: nothing held
    t = task(w["doctor"], "reserve_consumables")
    assert "可用库存不足" in t["instructions"] and "可用 5" in t["instructions"]
    assert _stock(app)["policy"]["reserved"] == 0
    assert w["doctor"].get(f"/api/v1/interventions/{c['id']}").json["status"] == "reserving"
    complete(w["doctor"], t, {"items": [{**STENTS, "quantity": 5}]})
    assert _stock(app)["policy"]["reserved"] == 5 and open_tasks(w["doctor"], "operation_record")

    with app.app_context():
        with pytest.raises(InsufficientStock) as refused:
            supply.reserve_for_case("IC-C01", "JR-OTHER", [supply.Need(STENT_GTIN, 1)], actor="dr")
        assert (refused.value.code, refused.value.status, refused.value.details["available"]) == (
            "insufficient_stock", 409, 0)
        with pytest.raises(UdiRefused) as unknown:
            supply.reserve_for_case("IC-C01", "JR-OTHER", [supply.Need("06901234567809", 1)], actor="dr")
        assert unknown.value.code == "udi_unknown_item"
        # every unit is held for the first case: an issue and another case's scan are refused
        with pytest.raises(InsufficientStock):
            supply.take("IC-C01", "STENT-DES", quantity=1, kind="issue", actor="keeper")
        with pytest.raises(InsufficientStock):
            supply.consume_udi(stent_udi("SN7100"), store_code="IC-C01", resident_id=w["resident"],
                               case_ref="JR-OTHER", used_by="dr")
        assert db.session().query(Lot).one().on_hand == 5


def test_cancelling_the_case_releases_its_reservation(app, centre):
    w = centre
    c = _booked(w)
    assert _stock(app)["policy"]["reserved"] == 2
    assert w["village"].post(f"/api/v1/interventions/{c['id']}/cancel", json={"reason": "x"}).status_code == 403
    resp = w["doctor"].post(f"/api/v1/interventions/{c['id']}/cancel", json={"reason": "患者要求推迟手术"})
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "cancelled"
    line = _stock(app)
    assert (line["policy"]["on_hand"], line["policy"]["reserved"], line["reservations"]) == (5, 0, [])
    assert open_tasks(w["doctor"], "operation_record") == []
    log = w["doctor"].get(f"/api/v1/interventions/{c['id']}").json["timeline"]
    assert any("患者要求推迟手术" in e["text"] and "已释放预留耗材 2 件" in e["text"] for e in log)
    again = w["doctor"].post(f"/api/v1/interventions/{c['id']}/cancel", json={"reason": "再次"})
    assert again.status_code == 409 and again.json["code"] == "case_not_cancellable"


def test_a_case_with_a_scanned_device_cannot_be_cancelled(app, centre):
    w = centre
    c = _booked(w)
    assert w["doctor"].post(f"/api/v1/interventions/{c['id']}/devices",
                            json={"udi": stent_udi("SN7201")}).status_code == 201
    refused = w["doctor"].post(f"/api/v1/interventions/{c['id']}/cancel", json={"reason": "术中改变方案"})
    assert refused.status_code == 409 and refused.json["code"] == "case_not_cancellable"
    assert _stock(app)["lots"][0]["reserved"] == 1
