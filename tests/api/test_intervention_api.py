"""Interventional centre stories through the API: a coronary stent case end to end (assessment with the patient's
warfarin and the contrast risk from eGFR, consent with the self-pay estimate, reservation, two stents scanned during
the operation, a bleeding complication and an unplanned return to theatre at the 48-hour checkpoint with the quality
office's root-cause analysis, discharge, the DRG grouper's result imported, cost and margin, the 31-day checkpoint,
the 30-day follow-up); refusals (scan outside the operation, a serial used twice, unscanned implants, DRG import
before discharge or conflicting); a four-grade procedure's MDT declining the operation."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock
from tests.intervention_support import (  # noqa: F401  (centre_fixture: the `centre` fixture)
    ASSESSMENT,
    case_body,
    centre_fixture,
    complete,
    consent,
    open_tasks,
    operation_record,
    stent_udi,
    task,
)
from tests.test_follow_up_support import tick

pytestmark = pytest.mark.usefixtures("centre")


def _open(w) -> dict:
    resp = w["doctor"].post("/api/v1/interventions", json=case_body(w["resident"]))
    assert resp.status_code == 201, resp.json
    return resp.json


def _case(w, case_id: int) -> dict:
    resp = w["doctor"].get(f"/api/v1/interventions/{case_id}")
    assert resp.status_code == 200, resp.json
    return resp.json


def _to_operation(w, c) -> None:
    complete(w["doctor"], task(w["doctor"], "pre_assessment"), ASSESSMENT)
    complete(w["doctor"], task(w["doctor"], "patient_consent"), consent(self_pay_acknowledged=True))
    complete(w["doctor"], task(w["doctor"], "reserve_consumables"),
             {"items": [{"name": "药物洗脱支架", "di": "06901234567892", "quantity": 2, "implant": True}]})


def _operate(w, c, implants: int = 2) -> dict:
    return operation_record(implants)


def test_stent_case_with_two_implants_and_a_complication_end_to_end(app, centre):
    w = centre
    c = _open(w)
    assert c["case_no"].startswith("JR") and c["status"] == "assessing"

    # an anticoagulated patient cannot pass the assessment without a peri-operative plan
    complete(w["doctor"], task(w["doctor"], "pre_assessment"), {**ASSESSMENT, "anticoag_plan": None})
    t = task(w["doctor"], "pre_assessment")
    assert "华法林" in t["instructions"] and "抗凝" in t["instructions"]
    complete(w["doctor"], t, ASSESSMENT)
    d = _case(w, c["id"])
    assert d["assessment"]["anticoagulation"]["on_anticoagulant"] is True
    assert d["assessment"]["egfr_ckd_epi_2009"] == 40.1 and d["assessment"]["contrast_risk"] == "moderate"
    assert d["contrast_risk_label"] == "中风险" and d["self_pay_estimate"] == 1800
    assert open_tasks(w["doctor"], "mdt_discussion") == []            # grade 3: no MDT

    # consent must acknowledge the self-pay estimate
    t = task(w["doctor"], "patient_consent")
    assert "1800" in t["instructions"]
    complete(w["doctor"], t, consent())
    t = task(w["doctor"], "patient_consent")
    assert "自费耗材预估 1800.00 元" in t["instructions"]
    complete(w["doctor"], t, consent(self_pay_acknowledged=True))

    # no scan before the operation record is open
    refused = w["doctor"].post(f"/api/v1/interventions/{c['id']}/devices", json={"udi": stent_udi("SN0001")})
    assert refused.status_code == 409 and refused.json["code"] == "operation_not_open"
    complete(w["doctor"], task(w["doctor"], "reserve_consumables"),
             {"items": [{"name": "药物洗脱支架", "di": "06901234567892", "quantity": 2, "implant": True}]})

    for serial in ("SN0001", "SN0002"):
        resp = w["doctor"].post(f"/api/v1/interventions/{c['id']}/devices", json={"udi": stent_udi(serial)})
        assert resp.status_code == 201, resp.json
        assert resp.json["gtin"] == "06901234567892" and resp.json["serial"] == serial and resp.json["implant"]
    again = w["doctor"].post(f"/api/v1/interventions/{c['id']}/devices", json={"udi": stent_udi("SN0002")})
    assert again.status_code == 409 and again.json["code"] == "udi_serial_used"
    bad = w["doctor"].post(f"/api/v1/interventions/{c['id']}/devices",
                           json={"udi": stent_udi("SN0003").replace("06901234567892", "06901234567891")})
    assert bad.status_code == 422 and bad.json["code"] == "udi_bad_check_digit"
    expired = w["doctor"].post(f"/api/v1/interventions/{c['id']}/devices",
                               json={"udi": stent_udi("SN0004", expiry=clock.today() - timedelta(days=1))})
    assert expired.status_code == 422 and expired.json["code"] == "udi_expired"
    with app.app_context():                                   # the two units left the centre's store
        from app.supply import queries as supply_queries
        from app.supply import services as supply
        [row] = supply_queries.stock(supply.store("IC-C01"))
        assert sum(lot["on_hand"] for lot in row["lots"]) == 3

    # an implant recorded but not scanned cannot pass
    complete(w["doctor"], task(w["doctor"], "operation_record"), _operate(w, c, implants=3))
    t = task(w["doctor"], "operation_record")
    assert "已扫码 2 件，记录使用 3 件" in t["instructions"]
    complete(w["doctor"], t, _operate(w, c))
    d = _case(w, c["id"])
    assert d["status"] == "inpatient" and len(d["devices"]) == 2 and d["operation"]["minutes"] == 60
    assert open_tasks(w["doctor"], "complication_checkpoint") == []      # the 48-hour checkpoint is a timer

    tick(app, days=2)
    t = task(w["doctor"], "complication_checkpoint")
    assert "48小时" in t["instructions"]
    operated = clock.now() - timedelta(days=2, hours=2)
    complete(w["doctor"], t, {
        "has_complication": True, "returned_to_theatre": True,
        "complications": [{"kind": "bleeding", "grade": "IIIb", "occurred_at": (operated + timedelta(hours=10)).isoformat(),
                           "treatment": "压迫止血无效，再次介入封堵"}],
        "reoperation": {"unplanned": True, "reoperated_at": (operated + timedelta(hours=20)).isoformat(),
                        "reason": "bleeding", "description": "桡动脉穿刺点出血"}})
    rca = task(w["quality"], "root_cause_analysis")
    assert "出血" in rca["instructions"]
    complete(w["quality"], rca, {"category": "technique", "root_cause": "穿刺点压迫器放置位置不当",
                                 "actions": "规范桡动脉压迫器使用培训", "preventable": True})
    d = _case(w, c["id"])
    assert [(x["kind"], x["severe"], x["checkpoint"]) for x in d["complications"]] == [("bleeding", True, "48h")]
    assert d["reoperations"][0]["unplanned"] and d["reoperations"][0]["interval_hours"] == 20.0
    assert d["reoperations"][0]["rca_done_at"]

    # the grouper's result cannot arrive before discharge
    drg = {"case_no": c["case_no"], "drg_code": "FM19", "drg_name": "经皮心血管操作及冠状动脉药物洗脱支架植入",
           "weight": 3.6, "total_charge": 45000, "patient_share": 9000, "grouper": "CHS-DRG 2.0",
           "charges": {"drugs": 6000, "exams": 5000, "other_consumables": 3000, "services": 4000}}
    early = w["integration"].post("/api/v1/interventions/drg-results", json=drg)
    assert early.status_code == 409 and early.json["code"] == "not_awaiting_grouping"
    complete(w["doctor"], task(w["doctor"], "discharge_patient"),
             {"discharged_on": clock.today().isoformat(), "destination": "down_referral", "summary": "恢复好"})
    resp = w["integration"].post("/api/v1/interventions/drg-results", json=drg)
    assert resp.status_code == 200 and resp.json["created"] is True, resp.json
    d = _case(w, c["id"])
    assert d["status"] == "grouped" and d["drg_code"] == "FM19" and d["drg_weight"] == 3.6
    assert d["cost"]["method"] == "points" and d["cost"]["region"] == "C01"
    assert d["margin"] == d["cost"]["expected_revenue"] - d["case_cost"]
    assert w["integration"].post("/api/v1/interventions/drg-results", json=drg).json["created"] is False
    other = w["integration"].post("/api/v1/interventions/drg-results", json={**drg, "drg_code": "FM29"})
    assert other.status_code == 409 and other.json["code"] == "drg_already_imported"

    tick(app, days=29)
    complete(w["doctor"], task(w["doctor"], "complication_checkpoint"),
             {"has_complication": False, "returned_to_theatre": False})
    tick(app, days=1)
    complete(w["doctor"], task(w["doctor"], "follow_up_30d"),
             {"reached": True, "readmitted": False, "informed": 5, "waiting": 4, "pain": 4, "attitude": 5, "cost": 4,
              "overall": 5})
    d = _case(w, c["id"])
    from app.core.db import session
    from app.workflows.models import ProcessInstance, ServiceCall
    with app.app_context():
        from app.intervention.models import InterventionCase
        iid = session().get(InterventionCase, c["id"]).instance_id
        inst = session().get(ProcessInstance, iid)
        print("INST", inst.status, [(x.operation if hasattr(x,'operation') else x.id, x.status) for x in session().query(ServiceCall).filter_by(instance_id=iid)])
    assert d["status"] == "closed" and d["satisfaction"] == 5 and d["readmitted_30d"] is False
    assert set(d["checkpoints"]) == {"48h", "31d"}

    _centre_outputs(app, w, c, d)

    listed = w["doctor"].get("/api/v1/interventions?with_complication=true&device=支架").json
    assert [x["id"] for x in listed["items"]] == [c["id"]]
    assert w["doctor"].get(f"/api/v1/residents/{w['resident']}/interventions").json["total"] == 1


def test_grade_four_goes_to_mdt_which_may_decline(app, centre):
    w = centre
    c = _open(w)
    complete(w["doctor"], task(w["doctor"], "pre_assessment"), {**ASSESSMENT, "procedure_grade": 4})
    complete(w["doctor"], task(w["doctor"], "mdt_discussion"),
             {"departments": "心内科、心外科、麻醉科", "conclusion": "外科搭桥获益更大", "proceed": False})
    d = _case(w, c["id"])
    assert d["status"] == "cancelled" and d["mdt"]["proceed"] is False
    assert open_tasks(w["doctor"], "patient_consent") == []


def test_patient_refusing_consent_cancels(app, centre):
    w = centre
    c = _open(w)
    complete(w["doctor"], task(w["doctor"], "pre_assessment"), ASSESSMENT)
    complete(w["doctor"], task(w["doctor"], "patient_consent"), {**consent(), "consented": False})
    assert _case(w, c["id"])["status"] == "cancelled"


def test_bad_input_is_refused_with_a_code(app, centre):
    w = centre
    bad = w["doctor"].post("/api/v1/interventions", json=case_body(w["resident"], service_line="cardiac"))
    assert bad.status_code == 422
    missing = w["doctor"].post("/api/v1/interventions", json=case_body(999999))
    assert missing.status_code == 404 and missing.json["code"] == "resident_not_found"
    assert w["village"].post("/api/v1/interventions", json=case_body(w["resident"])).status_code == 403
    unknown = w["integration"].post("/api/v1/interventions/drg-results",
                                    json={"case_no": "JR0-0", "drg_code": "FM19", "weight": 1, "total_charge": 1})
    assert unknown.status_code == 404 and unknown.json["code"] == "case_not_found"


def _centre_outputs(app, w, c, d) -> None:
    """The closed case feeds the centre: its indicators (both re-operation definitions, labelled), the drill-down,
    the xlsx workbook, the monthly PDF with the alarm's case, and the de-identified specialty export."""
    import io

    from openpyxl import load_workbook
    month = d["discharged_on"][:7]
    ind = w["quality"].get(f"/api/v1/intervention-centre/indicators?month={month}")
    assert ind.status_code == 200, ind.json
    total = ind.json["total"]
    assert total["cases"]["value"] == 1
    assert total["complication_rate"]["value"] == 100.0 and total["complication_rate"]["alarm"] is True
    assert total["unplanned_48h"]["numerator"] == 1 and "2011" in total["unplanned_48h"]["label"]
    assert total["unplanned_31d"]["value"] == 100.0
    assert "2022" in total["unplanned_2022"]["label"] and total["unplanned_2022"]["value"] == 100.0
    assert total["cmi"]["value"] == 3.6 and total["satisfaction"]["value"] == 100.0
    assert total["readmission_30d"]["value"] == 0.0
    # cost index: 45 000 ÷ regional FM19 average 42 000; time index: LOS ÷ 7.0
    assert total["cost_index"]["value"] == round(45000 / 42000, 4)
    assert total["mean_margin"]["value"] == d["margin"]
    assert [line["service_line"] for line in ind.json["lines"]] == ["coronary"]
    drill = w["quality"].get(f"/api/v1/interventions?ids={','.join(map(str, total['complication_rate']['case_ids']))}")
    assert [x["case_no"] for x in drill.json["items"]] == [c["case_no"]]
    book = w["quality"].get(f"/api/v1/intervention-centre/indicators.xlsx?month={month}")
    assert book.status_code == 200
    wb = load_workbook(io.BytesIO(book.data))
    assert wb.sheetnames == ["指标", "病例"] and wb["病例"]["A2"].value == c["case_no"]
    pdf = w["quality"].get(f"/api/v1/intervention-centre/report.pdf?month={month}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    export = w["quality"].get("/api/v1/interventions/export.xlsx?service_line=coronary")
    sheet = load_workbook(io.BytesIO(export.data))["专病数据库"]
    rows = [[cell.value for cell in r] for r in sheet.iter_rows()]
    assert rows[0][:3] == ["研究编号", "性别", "年龄段"] and len(rows) == 2
    flat = " ".join(str(v) for v in rows[1])
    assert "王建国" not in flat and "13800001234" not in flat and "70-79" in flat and "支架" in flat
    bad = w["quality"].get("/api/v1/intervention-centre/indicators?month=2026-13")
    assert bad.status_code == 422
