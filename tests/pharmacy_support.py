"""Shared helpers of the pharmacy tests (no tests here): deploy the real model, the HIS client, a prescription."""
from __future__ import annotations

import itertools
import random
from datetime import date
from typing import Any

from tests.helpers import REPO

MODELS = [REPO / "bpmn" / "rx_prereview.bpmn", REPO / "forms" / "rx_prereview", REPO / "bpmn" / "anticoag_monitoring.bpmn",
          REPO / "forms" / "anticoag_monitoring", REPO / "dmn"]
_deliveries = itertools.count(1)


def deploy_pharmacy_models(app) -> None:
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, MODELS), deployed_by="test", source="folder")


def id_number_of(seed: int = 7, born: date = date(1956, 3, 14), sex: str = "M") -> str:
    from app.residents import idcard
    return idcard.generate(random.Random(seed), area_code="330127", birth_date=born, sex=sex)


def rx(id_number: str, rx_id: str, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"id_number": id_number, "rx_id": rx_id, "org_code": "C01T01V01", "prescriber": "李医生",
            "setting": "outpatient", "indication": "NVAF", "diagnosis": "心房颤动", "items": items, **extra}
