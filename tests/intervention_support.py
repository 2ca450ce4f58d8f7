"""Shared helpers of the interventional-centre tests (no tests here): deploy the real model, a patient on warfarin,
the centre's doctor and the quality office, and UDIs of two coronary stents."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.helpers import REPO
from tests.test_consult_support import signature_png
from tests.test_follow_up_support import complete, make_resident, open_tasks  # noqa: F401  (re-exported)

MODELS = [REPO / "bpmn" / "intervention_case.bpmn", REPO / "forms" / "intervention_case", REPO / "dmn"]
STENT_GTIN = "06901234567892"


def deploy_intervention(app) -> None:
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, MODELS), deployed_by="test", source="folder")


def stent_udi(serial: str, *, lot: str = "L2301", expiry: date | None = None) -> str:
    from app.core import clock
    from app.supply.udi import element_string
    return element_string(STENT_GTIN, expiry_on=expiry or clock.today() + timedelta(days=400), lot=lot,
                          serial=serial)


def centre_stores(app) -> None:
    """The county hospital's central store and the interventional centre's 二级库 (cardiology, C01D01) holding five
    drug-eluting stents of lot L2301 (registered with a 医保耗材编码) and a closure device without one (self-pay)."""
    from app.core import clock
    from app.supply import services
    with app.app_context():
        services.create_store("PH-C01", "县医院中心库", org_code="C01", level="primary")
        services.create_store("IC-C01", "介入中心二级库", org_code="C01D01", level="secondary", parent_code="PH-C01")
        services.create_item("STENT-DES", "药物洗脱冠脉支架 3.0×18mm", kind="consumable", unit="个", gtin=STENT_GTIN,
                             high_value=True, unit_price_fen=580000, category="stent",
                             insurance_code="C0301010000000001234500000")
        services.receive("IC-C01", "STENT-DES", quantity=5, lot_no="L2301",
                         expiry_on=clock.today() + timedelta(days=400), actor="test")


@pytest.fixture(name="centre")
def centre_fixture(app, county, login_as):
    """The model deployed, a patient of 石门镇 on warfarin, a cardiologist of the county hospital's cardiology
    department (the centre), the hospital's quality office and an integration client."""
    from app.residents.records import record_medication
    deploy_intervention(app)
    centre_stores(app)
    resident = make_resident(app)
    with app.app_context():
        record_medication(resident, drug="warfarin", dose="2.5mg", frequency="qd", started_on=date(2026, 6, 1),
                          source="test")
    return {"resident": resident, "doctor": login_as("county_specialist", org="C01D01"),
            "quality": login_as("supervisor", org="C01"), "integration": login_as("integration", org="C01"),
            "village": login_as("village_doctor", org="C01T01V01")}


def case_body(resident_id: int, **extra) -> dict:
    return {"resident_id": resident_id, "service_line": "coronary", "diagnosis": "冠状动脉粥样硬化性心脏病 不稳定型心绞痛",
            "procedure_code": "36.0700", "procedure_name": "经皮冠状动脉药物洗脱支架置入术", **extra}


def task(api, element_id: str) -> dict:
    tasks = open_tasks(api, element_id)
    assert len(tasks) == 1, (element_id, tasks)
    return api.get(f"/api/v1/tasks/{tasks[0]['id']}").json


CONSENT = {"informed": ["procedure", "risks", "alternatives", "contrast", "consumables"], "signer_type": "patient",
           "signer_name": "王建国", "consented": True}


def consent(**extra) -> dict:
    return {**CONSENT, "signature": signature_png(), **extra}


def stored_case(app, resident_id: int, doctor_user_id: int, *, org: str = "C01D01") -> int:
    """A closed case row written straight to the tables (for the endpoint walkers, which need one of each object,
    not the process that makes it)."""
    from app.core import clock
    from app.core.db import unit_of_work
    from app.intervention.models import InterventionCase
    from app.org.queries import find_org
    with app.app_context(), unit_of_work() as s:
        now = clock.now()
        c = InterventionCase(case_no=f"JR-T{resident_id}-{doctor_user_id}", status="closed", resident_id=resident_id,
                             resident_name="王建国", org_code=org, org_path=find_org(org).path,
                             doctor_user_id=doctor_user_id, service_line="coronary", diagnosis="冠心病",
                             procedure_code="36.0700", procedure_name="经皮冠状动脉药物洗脱支架置入术", procedure_grade=3,
                             admitted_on=clock.today(), assessment={}, mdt={}, consent={}, reservation=[],
                             operation={}, checkpoints={}, discharge={}, discharged_on=clock.today(), drg={}, cost={},
                             follow_up={}, log=[], created_at=now, updated_at=now, closed_at=now)
        s.add(c)
        s.flush()
        return c.id


ASSESSMENT = {"procedure_grade": 3, "asa": 2, "scr_umol_l": 150, "contrast_allergy": False,
              "anticoag_plan": "术前停华法林5天，INR<1.5 后手术，低分子肝素桥接",
              "planned_consumables": [{"name": "药物洗脱支架", "quantity": 2, "price": 5800, "self_pay": False},
                                      {"name": "血管闭合器", "quantity": 1, "price": 1800, "self_pay": True}]}


def operation_record(implants: int = 2) -> dict:
    """F4.2 of an operation that ended an hour ago, with `implants` implants used."""
    from app.core import clock
    now = clock.now()
    return {"started_at": (now - timedelta(hours=2)).isoformat(), "ended_at": (now - timedelta(hours=1)).isoformat(),
            "operator": "李主任", "approach": "radial", "contrast_agent": "碘克沙醇", "contrast_ml": 120,
            "fluoro_minutes": 14, "dose_mgy": 850, "implants_used": implants, "outcome": "success"}
