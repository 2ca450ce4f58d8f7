"""Demo data of the network record and mutual recognition (issue 17.5): the accreditations of the county hospital's
laboratory and imaging department and of two township labs, and one village resident's results from across the
network — an HbA1c from the county lab (互认, 90 days), an LDL-C from a township lab not accredited for lipids, a
creatinine past its 14-day window, a chest CT with its PACS link (互认), an ECG (shared only) and a discharge summary —
plus two orders the county HIS checked: one repeat kept with a reason, one withdrawn (the repeat avoided).

Results go through the real intake (`app.residents.intake`) and orders through the real check
(`app.recognition.services`); the documents are PACS/EMR links as their connector would store them."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth.models import User
from app.core import clock
from app.core.db import session, unit_of_work
from app.recognition import services as recognition
from app.recognition.models import Accreditation
from app.residents import intake
from app.residents.models import Resident
from app.workflows.deploy import latest_decision_versions
from connectors.pacs.models import RecordLink

VILLAGE = "C01T01V01"
ACCREDITATIONS = (   # org, class, item, programme
    ("C01", "lab", "*", "省临床检验中心室间质评合格（全部项目）"),
    ("C01", "imaging", "*", "省医学影像质控中心质控合格"),
    ("C01T01", "lab", "4548-4", "省临床检验中心室间质评合格（糖化血红蛋白）"),
    ("C01T01", "lab", "1558-6", "省临床检验中心室间质评合格（血糖）"),
    ("C01T02", "lab", "1558-6", "省临床检验中心室间质评合格（血糖）"),
)


def demo_resident() -> Resident | None:
    """The resident the demo's network record is about: the first resident of the first village."""
    return session().scalars(select(Resident).where(Resident.org_code == VILLAGE).order_by(Resident.id)).first()


def seed_recognition() -> dict[str, int]:
    """Add the demo's accreditations, network results and checked orders once; {} when there or not possible."""
    if session().scalars(select(Accreditation).limit(1)).first() is not None:
        return {}
    if "recognition_item" not in latest_decision_versions(session()):
        return {}
    resident = demo_resident()
    if resident is None:
        return {}
    now, today = clock.now(), clock.today()
    with unit_of_work() as s:
        for org, cls, item, programme in ACCREDITATIONS:
            s.add(Accreditation(org_code=org, item_class=cls, item_code=item, programme=programme,
                                valid_from=today.replace(month=1, day=1) - timedelta(days=365), valid_to=None,
                                updated_at=now))
        for system, ext, kind, title, modality, days, org, text in (
                ("pacs", "1.2.156.112605.2026.1", "imaging_study", "胸部CT平扫", "CT", 6, "C01",
                 "双肺纹理增多，未见明确占位。"),
                ("pacs", "1.2.156.112605.2026.2", "imaging_study", "常规十二导联心电图", "ECG", 2, "C01T01",
                 "窦性心律，ST-T 未见明显异常。"),
                ("emr", "EMR-DEMO-0001", "document", "出院小结（心内科）", None, 9, "C01D01",
                 "高血压病3级（很高危），住院7天，血压控制平稳后出院，下转乡镇卫生院随访。")):
            s.add(RecordLink(resident_id=resident.id, kind=kind, system=system, external_id=ext, title=title,
                             modality=modality, report_text=text, org_code=org, created_at=now, updated_at=now,
                             viewer_url=f"/pacs/viewer?study={ext}" if system == "pacs" else None,
                             performed_at=now - timedelta(days=days)))
    facts = [intake.ObservationFact(code=code, value=value, unit=unit, effective_at=now - timedelta(days=days),
                                    org_code=org, client_id=f"demo-recognition-{code}")
             for code, value, unit, days, org in (("4548-4", 7.4, "%", 21, "C01"),
                                                  ("13457-7", 3.6, "mmol/L", 4, "C01T02"),
                                                  ("2160-0", 92, "umol/L", 20, "C01"))]
    intake.submit(resident.id, facts, source="lis", actor="seed", rescreen=False)
    doctor = session().scalars(select(User).where(User.username == "township_doctor1")).first()
    orderer = doctor.display_name if doctor is not None and doctor.display_name else "乡镇医生"
    kept, _ = recognition.check_order(
        resident_id=resident.id, order_key="his:demo:ORD-DEMO-0001", order_no="ORD-DEMO-0001", channel="his",
        org_code="C01T01", orderer=orderer, item_class="imaging", item_code="CT",
        ordered_at=now - timedelta(days=3), reason_code="condition_changed", reason_note="咳嗽加重伴低热3天",
        actor="seed")
    withdrawn, _ = recognition.check_order(
        resident_id=resident.id, order_key="his:demo:ORD-DEMO-0002", order_no="ORD-DEMO-0002", channel="his",
        org_code="C01T01", orderer=orderer, item_class="lab", item_code="4548-4", ordered_at=now - timedelta(days=1),
        actor="seed")
    recognition.answer_order(withdrawn.id, action="withdraw", reason_code=None, reason_note=None, by=orderer)
    return {"recognition_accreditations": len(ACCREDITATIONS), "network_results": len(facts) + 3,
            "recognition_orders": 2 if kept.status == "kept" else 1}
