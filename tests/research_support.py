"""Shared helpers of the research-extraction tests (no tests here): deploy the model, a small hand-made county."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime

from tests.helpers import REPO

MODELS = [REPO / "bpmn" / "research_extract.bpmn", REPO / "forms" / "research_extract", REPO / "dmn"]


def deploy_research_models(app) -> None:
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, MODELS), deployed_by="test", source="folder")


def resident(app, *, name: str, org: str, born: date, sex: str, seed: int, htn: bool = False, t2dm: bool = False,
             sbp: float | None = None, risk: str | None = None) -> int:
    """A resident with (optionally) hypertension / diabetes enrolled, one systolic reading and a risk level."""
    from app.auth.principal import SYSTEM
    from app.core import clock
    from app.core.db import unit_of_work
    from app.residents import idcard, management, records
    from app.residents.record_models import RiskLevel
    from app.residents.services import register_resident
    id_number = idcard.generate(random.Random(seed), area_code="330127", birth_date=born, sex=sex)
    with app.app_context():
        rid = register_resident({"id_number": id_number, "name": name, "phone": "13800001234",
                                 "address": "石门镇上塘村1组", "org_code": org}, principal=SYSTEM).id
        for disease, wanted in (("htn", htn), ("t2dm", t2dm)):
            if wanted:
                management.enrol(rid, disease=disease, icd10=None, diagnosed_on=date(2025, 6, 1),
                                 managing_doctor_user_id=None, village_code=org, screening_case_id=None,
                                 source="test", actor="test")
        if sbp is not None:
            records.record_observation(rid, code="8480-6", value=sbp, unit="mm[Hg]",
                                       effective_at=datetime(2026, 3, 1, 2, tzinfo=UTC), source="test",
                                       rescreen=False)
        if risk is not None:
            with unit_of_work() as s:
                s.add(RiskLevel(resident_id=rid, disease="htn", level=risk, decision_id="test", reason="",
                                assessed_at=clock.now()))
    return rid
