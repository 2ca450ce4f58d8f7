"""Demo family-doctor contracts (`fd_contract`) in several states, made through the real process: the demo patient
(patient1's resident) holds an active contract with the paid 高血压个性化包 (paid through the cashier's confirmation,
signed on the phone, one lab package item already delivered); another resident's offer waits for payment (a short
payment from the cashier is kept and flagged); one free basic contract waits for the signature; one portal request
waits for the team's assessment in the village doctor's inbox."""
from __future__ import annotations

from sqlalchemy import select

from app.auth.services import find_user, principal_for
from app.contracting import catalogue, ledger
from app.contracting import services as contracting
from app.contracting.models import Contract, ContractItem
from app.core.db import session
from app.residents.models import Resident
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask

PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5"
       "ErkJggg==") + "A" * 200
VD = "village_doctor1"


def _task(instance_id: int | None, element_id: str) -> HumanTask | None:
    return session().scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.element_id == element_id,
                                                     HumanTask.status == "open")).first()


def seed_contracts(complete) -> dict[str, int]:
    """`complete(username, task, data)` completes a task as that demo user (the activity seed's helper)."""
    if contracting.PROCESS not in latest_process_versions(session()):
        return {}
    catalogue.ensure_defaults("county_admin")
    if session().scalars(select(Contract.id)).first() is not None:
        return {}
    people = list(session().scalars(select(Resident).where(Resident.org_code == "C01T01V01")
                                    .order_by(Resident.id).limit(12)))
    user = find_user(VD)
    if len(people) < 12 or user is None:
        return {}
    doctor = principal_for(user)

    def walk(resident: Resident, *, package: str | None, channel: str, groups: list[str], chosen: list[str] | None,
             risk: str = "HIGH") -> Contract:
        row = contracting.request_contract(resident.id, package, channel, actor=VD if channel != "portal" else None)
        if chosen is not None:
            complete(VD, _task(row.instance_id, "assess"), {
                "groups": groups, "htn_uncontrolled_twice": False, "htn_risk_answer": risk, "on_warfarin": False,
                "self_care": "none", "needs": ["上门"]})
            complete(VD, _task(row.instance_id, "select_package"), {"packages": chosen, "disclosure_ack": True})
        return row

    # 1. the demo patient: active, with a paid package, paid, signed, one item delivered
    active = walk(people[0], package="HTN_PLUS", channel="portal", groups=["老年人", "高血压"],
                  chosen=["BASIC", "HTN_PLUS"])
    contracting.record_payment(contract_no=active.contract_no, payment_ref="demo-cashier:PAY-0001",
                               amount_fen=active.amount_due_fen, actor="demo-cashier")
    contracting.store_signature(doctor, active.id, method="e_sign", image=PNG, signer=people[0].name)
    complete(VD, _task(active.instance_id, "sign"), {"signed": True})
    labs = session().scalars(select(ContractItem).where(ContractItem.contract_id == active.id,
                                                        ContractItem.service_code == "htn_annual_labs")).first()
    if labs is not None:
        ledger.deliver(active, labs.id, source="manual", source_ref="demo:labs", delivered_on=None, actor=VD)
    # 2. an offer waiting for payment; the cashier sent too little: kept and flagged
    waiting = walk(people[9], package=None, channel="outreach", groups=["2型糖尿病"], chosen=["BASIC", "DM_PLUS"],
                   risk="NA")
    contracting.record_payment(contract_no=waiting.contract_no, payment_ref="demo-cashier:PAY-0002",
                               amount_fen=1000, actor="demo-cashier")
    # 3. a free basic contract waiting for the resident's signature
    walk(people[10], package=None, channel="staff", groups=["一般人群"], chosen=["BASIC"], risk="NA")
    # 4. a portal request waiting for the team's assessment
    walk(people[11], package=None, channel="portal", groups=[], chosen=None)
    return {"contracts": 4}
