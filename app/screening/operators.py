"""Service-task operators of `screening`, `stratify` and `cancer_screening` (run through the outbox).

Each takes the model's parameters plus the call's idempotency key and is safe to run twice: case transitions are
state changes to a target state, enrolment is unique per disease, grading starts at most one instance per call.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.db import session
from app.residents.records import record_condition
from app.workflows.bindings import ServiceError, operator
from app.workflows.models import HumanTask

from . import services, stratify


@operator("screening/mark_verified")
def mark_verified(*, idempotency_key: str, instance_id: int, case_id: int) -> dict[str, Any]:
    """The township confirmed the case."""
    return services.mark_verified(case_id)


@operator("screening/order_test")
def order_test(*, idempotency_key: str, instance_id: int, case_id: int, test: str | None = None,
               resident_id: int | None = None) -> dict[str, Any]:
    """Order the confirmatory test (recorded on the case; the LIS connector sends the order); its result arrives
    as the `lab_result` message correlated by resident."""
    result = services.mark_test_ordered(case_id, test)
    return {**result, "order_id": idempotency_key, "resident_id": resident_id}


@operator("screening/reject_case")
def reject_case(*, idempotency_key: str, instance_id: int, case_id: int, reason: str | None = None
                ) -> dict[str, Any]:
    """The township rejected the case, with a reason (counted per disease and organization)."""
    return services.close_case(case_id, status="rejected", reason=reason)


@operator("screening/enrol_case")
def enrol_case(*, idempotency_key: str, instance_id: int, case_id: int, icd10: str | None = None,
               diagnosed_on: str | None = None, managing_doctor_user_id: int | None = None,
               village_code: str | None = None, actor: str = "screening") -> dict[str, Any]:
    """建档: write the enrolment into the record and close the case."""
    return services.enrol_case(case_id, icd10=icd10, diagnosed_on=diagnosed_on,
                               managing_doctor_user_id=managing_doctor_user_id, village_code=village_code,
                               actor=actor)


@operator("screening/start_stratify")
def start_stratify(*, idempotency_key: str, instance_id: int, resident_id: int, disease: str) -> dict[str, Any]:
    """Start risk stratification of the newly enrolled disease."""
    started = stratify.start_grading(int(resident_id), disease, reason="enrolled", force=True)
    return {"stratify_instance_id": started, "graded": started is not None}


@operator("stratify/record_level")
def record_level(*, idempotency_key: str, instance_id: int, resident_id: int, disease: str, decision_id: str,
                 inputs: dict[str, Any] | None = None, basis: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply the level the business-rule task decided to the resident (may raise, never lower), with its reason
    and the readings it used (`basis`)."""
    evaluation = stratify._decision_record(instance_id, decision_id)
    if not evaluation:
        raise ServiceError("no_decision", f"no evaluation of {decision_id} in instance {instance_id}")
    return stratify.record_level(instance_id=instance_id, resident_id=int(resident_id), disease=disease,
                                 decision_id=decision_id, outputs=evaluation.get("outputs", {}),
                                 inputs=inputs or {}, basis=basis)


@operator("stratify/notify_village_doctor")
def notify_village_doctor(*, idempotency_key: str, instance_id: int, resident_id: int, disease: str,
                          level: str | None = None) -> dict[str, Any]:
    """Notify the village doctor of an upgrade to 高危/很高危."""
    return stratify.notify_village_doctor(resident_id=int(resident_id), disease=disease, level=level,
                                          instance_id=instance_id)


@operator("stratify/confirm_level")
def confirm_level(*, idempotency_key: str, instance_id: int, resident_id: int, disease: str,
                  level: str | None = None, plan: str | None = None, note: str | None = None) -> dict[str, Any]:
    """The township doctor's review: the level they confirmed becomes the grade in force (a clinician's
    re-assessment, kept against later automatic proposals), with their note (or chosen handling) as the reason."""
    if not level:
        raise ServiceError("no_confirmed_level", "the review did not confirm a level")
    reviewer = session().scalars(select(HumanTask.completed_by).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == "review_high_risk",
        HumanTask.status == "completed").order_by(HumanTask.id.desc())).first()
    reason = (note or "").strip() or f"高危复核：{plan or '已复核'}"
    return stratify.reassess(int(resident_id), disease, level=level, reason=reason, actor=reviewer or "review")


@operator("cancer/refer_for_diagnosis")
def refer_for_diagnosis(*, idempotency_key: str, instance_id: int, case_id: int, hospital: str | None = None,
                        exam: str | None = None) -> dict[str, Any]:
    """Record the referral for diagnostic endoscopy/colonoscopy on the case."""
    result = services.mark_test_ordered(case_id, exam)
    return {**result, "referral_id": idempotency_key, "hospital": hospital}


@operator("cancer/close_loop")
def close_loop(*, idempotency_key: str, instance_id: int, case_id: int, outcome: str,
               icd10: str | None = None, actor: str = "cancer_screening") -> dict[str, Any]:
    """Close the cancer-screening loop: the diagnosis (recorded on the record when cancer) and treatment known."""
    result = services.close_case(case_id, status="diagnosed" if outcome == "cancer" else "closed", reason=outcome)
    if outcome == "cancer" and icd10:
        case = services.get_case(case_id)
        record_condition(case.resident_id, icd10=icd10, onset_on=None, status="confirmed", source="cancer_screening",
                         client_id=f"cancer:{case_id}", actor=actor, rescreen=False)
    return result
