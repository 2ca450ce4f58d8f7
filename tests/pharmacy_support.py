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
    """A legal prescription (signed, today, by 李医生 of the village clinic, who must exist: `make_prescriber`)."""
    return {"id_number": id_number, "rx_id": rx_id, "org_code": "C01T01V01", "prescriber": "李医生",
            "signature": {"cert_sn": f"CA-{rx_id}"}, "setting": "outpatient", "indication": "NVAF",
            "diagnosis": "心房颤动", "items": items, **extra}


def make_prescriber(app, display_name: str = "李医生", org: str = "C01T01V01", role: str = "village_doctor",
                    username: str | None = None, privilege: bool = True):
    """A doctor in the staff directory, holding 处方权 at `org` unless `privilege=False`."""
    from app.auth.models import User
    from app.auth.services import create_user
    from app.core.db import unit_of_work
    with app.app_context():
        user = create_user(username or f"dr_{org.lower()}_{abs(hash(display_name)) % 10000}", password=None,
                           roles=[role], org_code=org, display_name=display_name)
        if not privilege:
            with unit_of_work() as s:
                s.get(User, user.id).prescribing_privilege = False
        return user.username


def allow_auto_pass(app, org: str, *classes: str, enabled: bool = True) -> None:
    """Switch auto-pass on (or off) for these drug classes at `org` (default: off everywhere)."""
    from app.pharmacy import services
    with app.app_context():
        for drug_class in classes:
            services.set_auto_pass(org, drug_class, enabled, actor="test")
