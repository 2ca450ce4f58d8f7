"""Service-task operators of the `follow_up` process (run through the outbox, idempotent per visit)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.care_plans.operators import completed_by
from app.core.db import session
from app.workflows.bindings import operator
from app.workflows.models import ProcessEvent

from . import services

VISIT_TASKS = ("record_htn_visit", "record_htn_visit_high_risk", "record_dm_visit", "record_dm_visit_high_risk")


def _decision_record(instance_id: int) -> dict[str, Any]:
    """The decision that classified this visit: id, versions and the rows that fired (the reason)."""
    event = session().scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance_id,
                                                         ProcessEvent.type == "decision_evaluated")
                              .order_by(ProcessEvent.id.desc())).first()
    if event is None:
        return {}
    data = event.data or {}
    return {"decision_id": data.get("decision_id"), "versions": data.get("versions"), "reason": data.get("reason"),
            "outputs": data.get("outputs")}


@operator("follow_up/record_visit")
def record_visit(*, idempotency_key: str, instance_id: int, visit_id: int, record: dict,
                 classification: str | None = None, action: str | None = None, next_due_days: int | None = None,
                 sbp: int | None = None, dbp: int | None = None, target: dict | None = None) -> dict[str, Any]:
    """Store the visit with its classification and move the schedule to the next due date. `target` is the plan
    target the classification used (`sbp_lt`/`dbp_lt`/`fpg_lt`, null when the guideline default applied)."""
    decision = _decision_record(instance_id) if classification else None
    if decision is not None and target is not None:
        decision["target"] = {k: v for k, v in target.items() if v is not None}
    return services.record_visit(
        instance_id, visit_id=int(visit_id), record=record, classification=classification, action=action,
        next_due_days=next_due_days, sbp=sbp, dbp=dbp, performed_by=completed_by(instance_id, VISIT_TASKS),
        decision=decision)


@operator("follow_up/refer")
def refer(*, idempotency_key: str, instance_id: int, visit_id: int, resident_id: int, disease: str, action: str,
          classification: str | None = None, reason: str = "") -> dict[str, Any]:
    """Start the referral process (or record the request for it) for an emergency or routine referral."""
    return services.refer(instance_id, visit_id=int(visit_id), resident_id=int(resident_id), disease=disease,
                          action=action, classification=classification, reason=reason)
