"""Shared helpers of the contracting tests (no tests here): deploy the real model, the starting catalogue, the
cashier client, walking a contract to signing."""
from __future__ import annotations

import itertools

from tests.helpers import REPO
from tests.referral_support import arrival
from tests.test_follow_up_support import complete, one_task

MODELS = [REPO / "bpmn" / "fd_contract.bpmn", REPO / "forms" / "fd_contract", REPO / "dmn"]
PNG = "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==" * 4
_payments = itertools.count(1)


def deploy_contract_models(app) -> None:
    from app.contracting import catalogue
    from app.core.db import unit_of_work
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, MODELS), deployed_by="test", source="folder")
        with unit_of_work():
            catalogue.ensure_defaults()


def assess(api, *, groups=("高血压",), risk="HIGH", uncontrolled=False, self_care="none") -> dict:
    return complete(api, one_task(api, "assess"), {
        "groups": list(groups), "htn_uncontrolled_twice": uncontrolled, "htn_risk_answer": risk,
        "on_warfarin": False, "self_care": self_care, "needs": []})


def select(api, packages) -> dict:
    return complete(api, one_task(api, "select_package"), {"packages": list(packages), "disclosure_ack": True})


def pay(client, cashier: dict, contract_no: str, amount_fen: int, payment_id: str | None = None):
    payment_id = payment_id or f"PAY-{next(_payments)}"
    return arrival(client, cashier, {"contract_no": contract_no, "payment_id": payment_id, "amount_fen": amount_fen},
                   f"pay-{payment_id}", message="contract_payment")


def sign(api, contract_id: int) -> dict:
    resp = api.post(f"/api/v1/contracts/{contract_id}/signature",
                    json={"method": "e_sign", "image": PNG, "signer": "王建国"})
    assert resp.status_code == 200, resp.json
    return complete(api, one_task(api, "sign"), {"signed": True})


def contract(api, contract_id: int) -> dict:
    resp = api.get(f"/api/v1/contracts/{contract_id}")
    assert resp.status_code == 200, resp.json
    return resp.json
