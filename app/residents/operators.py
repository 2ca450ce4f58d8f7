"""Service-task operator of `merge_review`: apply the reviewer's decision (never a silent merge)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import update

from app.audit.services import record as audit
from app.core.db import rowcount, unit_of_work
from app.workflows.bindings import ServiceError, operator

from .record_models import Condition, Encounter, Medication, Observation

MOVED = (Observation, Condition, Encounter, Medication)


@operator("residents/apply_merge_review")
def apply_merge_review(*, idempotency_key: str, instance_id: int, decision: str, keep_resident_id: int | None = None,
                       new_resident_id: int | None = None, candidate_ids: list[int] | None = None) -> dict[str, Any]:
    """Same person: move the clinical facts of the other record(s) onto the kept one; otherwise record the
    decision. Moving is idempotent (a second run finds nothing left to move)."""
    involved = sorted({i for i in [new_resident_id, *(candidate_ids or [])] if i})
    moved = 0
    with unit_of_work():
        if decision == "same_person":
            if keep_resident_id not in involved:
                raise ServiceError("invalid_keep", "保留的居民须是核对对象之一")
            others = [i for i in involved if i != keep_resident_id]
            with unit_of_work() as s:
                for model in MOVED:
                    moved += rowcount(s.execute(update(model).where(model.resident_id.in_(others))
                                                .values(resident_id=keep_resident_id)))
        audit("resident.merge_review", object_type="resident", object_id=keep_resident_id or new_resident_id,
              details={"decision": decision, "involved": involved, "moved_rows": moved, "instance_id": instance_id})
    return {"decision": decision, "kept": keep_resident_id, "moved_rows": moved}
