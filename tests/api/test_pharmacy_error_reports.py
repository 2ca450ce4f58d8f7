"""Issue 18.1: a refused prescription records a 用药差错/不良事件报告 (wave2 §3.1 step 5: refuse → 不良事件/用药错误上报)
in the refusing transaction — after the first review's 拒绝 and after the double-sign 拒绝 — shown on the
prescription and listed for pharmacists, supervisors and county administrators (scoped, read-audited)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.db import session, unit_of_work
from app.pharmacy import operators, services
from app.pharmacy.models import MedicationErrorReport
from app.workflows.models import ProcessInstance
from tests.api import test_pharmacy_prereview as prereview
from tests.api.test_pharmacy_prereview import RIVA_20, prescription, send
from tests.pharmacy_support import rx
from tests.referral_support import complete, one

world = prereview.world        # the same HIS client, pharmacists and village doctor
WARFARIN = [{"drug": "warfarin", "dose_mg": 3, "frequency": "qd"}]


def _warn(client, w, rx_id: str, webhook: str) -> int:
    resp = send(client, w, rx(w["id_number"], rx_id, WARFARIN, concomitant=["amiodarone"],
                              clinical={"inr": 2.4}), webhook)
    assert resp.status_code == 200, resp.json
    return resp.json["prescription_id"]


def _count(app) -> int:
    with app.app_context():
        return session().scalar(select(func.count()).select_from(MedicationErrorReport)) or 0


def test_a_refusal_records_one_report_with_the_review_form_and_a_repeat_adds_none(app, client, world):
    w = world
    rx_id = _warn(client, w, "RX-E1", "e-1")
    complete(w["pharmacist"], one(w["pharmacist"], "pharmacist_review"),
             {"decision": "refuse", "problems": ["interaction", "dose"], "opinion": "华法林合用胺碘酮，出血风险高"})
    got = prescription(w["pharmacist"], rx_id)
    assert got["status"] == "refused"
    [report] = got["error_reports"]
    assert report["rx_id"] == "RX-E1" and report["version"] == 1 and report["org_code"] == "C01T01V01"
    assert report["prescriber"] == "李医生" and report["resident_id"] == got["resident_id"]
    assert report["pharmacist_name"] and report["double_signed"] is False and report["first_pharmacist_name"] is None
    assert report["problems"] == ["interaction", "dose"]
    assert report["problem_labels"] == ["联合用药不适宜/相互作用", "用法用量不适宜"]
    assert report["opinion"] == "华法林合用胺碘酮，出血风险高"
    assert report["category"] == "B" and report["category_label"].startswith("B 类")
    assert report["findings"][0]["code"] == "warfarin_interaction"
    # the process passed through its 用药差错报告 step
    with app.app_context():
        instance = session().get(ProcessInstance, got["instance_id"])
        assert instance.status == "completed"
    # a repeated delivery of the deciding / reporting operators adds nothing
    with app.app_context(), unit_of_work():
        services.decide(rx_id, pharmacist="pharm_a", decision="refuse", problems=["dose"], opinion="again")
        operators.error_report(idempotency_key="x", instance_id=got["instance_id"], prescription_id=rx_id)
    assert _count(app) == 1
    listed = w["pharmacist"].get("/api/v1/prescriptions/error-reports")
    assert listed.status_code == 200 and listed.json["total"] == 1
    assert listed.json["items"][0]["resident_name"]
    with app.app_context():
        assert session().scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "medication_error_report")) == 1
    assert w["village"].get("/api/v1/prescriptions/error-reports").status_code == 403


def test_a_double_sign_refusal_records_a_report_with_both_pharmacists(app, client, world):
    w = world
    resp = send(client, w, rx(w["id_number"], "RX-E2", RIVA_20, clinical={"crcl_ml_min": 40}), "e-2")
    rx_id = resp.json["prescription_id"]
    complete(w["pharmacist"], one(w["pharmacist"], "pharmacist_review"),
             {"decision": "intervene", "problems": ["dose"], "opinion": "CrCl 40，建议 15 mg qd",
              "suggested_dose": "15 mg qd"})
    complete(w["village"], one(w["village"], "prescriber_reply"), {"action": "insist", "reason": "患者体重大"})
    complete(w["pharmacist2"], one(w["pharmacist2"], "double_sign"),
             {"second_decision": "refuse", "second_opinion": "不同意放行"})
    got = prescription(w["pharmacist"], rx_id)
    assert got["status"] == "refused"
    [report] = got["error_reports"]
    assert report["double_signed"] is True and report["problems"] == ["dose"]
    assert report["opinion"] == "不同意放行" and report["category"] == "B"
    assert report["first_pharmacist_name"] and report["pharmacist_name"] != report["first_pharmacist_name"]


def test_pass_and_intervene_record_no_report(app, client, world):
    w = world
    passed = _warn(client, w, "RX-E3", "e-3")
    complete(w["pharmacist"], one(w["pharmacist"], "pharmacist_review"), {"decision": "pass"})
    intervened = _warn(client, w, "RX-E4", "e-4")
    complete(w["pharmacist"], one(w["pharmacist"], "pharmacist_review"),
             {"decision": "intervene", "problems": ["interaction"], "opinion": "请减量"})
    assert prescription(w["pharmacist"], passed)["error_reports"] == []
    assert prescription(w["pharmacist"], intervened)["error_reports"] == []
    assert _count(app) == 0
    assert w["pharmacist"].get("/api/v1/prescriptions/error-reports").json == {"items": [], "total": 0}
