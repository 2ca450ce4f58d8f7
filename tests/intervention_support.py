"""Shared helpers of the interventional-centre tests (no tests here): deploy the real model, a patient on warfarin,
the centre's doctor and the quality office, and UDIs of two coronary stents."""
from __future__ import annotations

import re
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
    day = expiry or clock.today() + timedelta(days=400)
    return f"(01){STENT_GTIN}(17){day:%y%m%d}(10){lot}(21){serial}"


_HR = re.compile(r"\((\d\d)\)([^(]+)")


def centre_store(udi: str, *, org_code: str, resident_id: int, case_ref: str, user_id: int) -> dict:
    """The centre's store as the supply chain answers a scan (app.supply has not landed yet: this stands in for
    its consumption service with the same contract; see app/intervention/devices.py)."""
    from app.core.errors import Invalid
    ai = dict(_HR.findall(udi))
    if "01" not in ai:
        raise Invalid("无法识别 UDI", code="udi_unreadable")
    expiry = date(2000 + int(ai["17"][:2]), int(ai["17"][2:4]), int(ai["17"][4:6])) if "17" in ai else None
    return {"gtin": ai["01"], "lot": ai.get("10"), "serial": ai.get("21"),
            "expiry": expiry.isoformat() if expiry else None, "name": "药物洗脱冠脉支架 3.0×18mm",
            "unit_price": 5800.0, "unit_cost": 5600.0, "insurance_code": "C0301010000000001234500000",
            "high_value": True, "implant": True, "in_catalogue": True, "stock_ref": f"use-{ai.get('21')}"}


@pytest.fixture(name="centre")
def centre_fixture(app, county, login_as):
    """The model deployed, a patient of 石门镇 on warfarin, a cardiologist of the county hospital's cardiology
    department (the centre), the hospital's quality office and an integration client."""
    from app.intervention import devices
    from app.residents.records import record_medication
    deploy_intervention(app)
    resident = make_resident(app)
    with app.app_context():
        record_medication(resident, drug="warfarin", dose="2.5mg", frequency="qd", started_on=date(2026, 6, 1),
                          source="test")
    devices.use_consumer(centre_store)
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
