"""Service-task operators of `intervention_case` (run through the outbox; each step idempotent)."""
from __future__ import annotations

from typing import Any

from app.workflows.bindings import operator

from . import steps


@operator("intervention/assess")
def assess(*, idempotency_key: str, instance_id: int, case_id: int, assessment: dict[str, Any]) -> dict[str, Any]:
    """F4.1 with the anticoagulant status and the eGFR inputs read from the record."""
    return steps.assess(case_id, assessment=assessment)


@operator("intervention/record_risk")
def record_risk(*, idempotency_key: str, instance_id: int, case_id: int, egfr_2009: float | None,
                egfr_2021: float | None, contrast_risk: str, advice: str) -> dict[str, Any]:
    """eGFR and the contrast-induced AKI risk (R12)."""
    return steps.record_risk(case_id, egfr_2009=egfr_2009, egfr_2021=egfr_2021, contrast_risk=contrast_risk,
                             advice=advice)


@operator("intervention/record_mdt")
def record_mdt(*, idempotency_key: str, instance_id: int, case_id: int, mdt: dict[str, Any]) -> dict[str, Any]:
    """四级手术术前多学科讨论."""
    return steps.record_mdt(case_id, mdt=mdt)


@operator("intervention/stop")
def stop(*, idempotency_key: str, instance_id: int, case_id: int, reason: str) -> dict[str, Any]:
    """Cancel the case before the operation, with the reason."""
    return steps.stop(case_id, reason=reason)


@operator("intervention/record_consent")
def record_consent(*, idempotency_key: str, instance_id: int, case_id: int, consent: dict[str, Any]) -> dict[str, Any]:
    """Consent with the self-pay consumable estimate acknowledged."""
    return steps.record_consent(case_id, consent=consent)


@operator("intervention/reserve")
def reserve(*, idempotency_key: str, instance_id: int, case_id: int, reservation: dict[str, Any]) -> dict[str, Any]:
    """耗材申领/预留."""
    return steps.reserve(case_id, reservation=reservation)


@operator("intervention/record_operation")
def record_operation(*, idempotency_key: str, instance_id: int, case_id: int,
                     operation: dict[str, Any]) -> dict[str, Any]:
    """F4.2; every implant used scanned."""
    return steps.record_operation(case_id, operation=operation)


@operator("intervention/checkpoint")
def checkpoint(*, idempotency_key: str, instance_id: int, case_id: int, stage: str,
               answer: dict[str, Any]) -> dict[str, Any]:
    """48-hour / 31-day checkpoint: complications (F4.3) and a return to theatre (F4.4)."""
    return steps.checkpoint(case_id, stage=stage, answer=answer)


@operator("intervention/record_rca")
def record_rca(*, idempotency_key: str, instance_id: int, case_id: int, reoperation_id: int,
               rca: dict[str, Any]) -> dict[str, Any]:
    """Root-cause analysis of an unplanned return to theatre."""
    return steps.record_rca(case_id, reoperation_id=reoperation_id, rca=rca)


@operator("intervention/record_discharge")
def record_discharge(*, idempotency_key: str, instance_id: int, case_id: int,
                     discharge: dict[str, Any]) -> dict[str, Any]:
    """Discharge date, destination, LOS."""
    return steps.record_discharge(case_id, discharge=discharge)


@operator("intervention/record_drg")
def record_drg(*, idempotency_key: str, instance_id: int, case_id: int, drg: dict[str, Any]) -> dict[str, Any]:
    """The imported grouper output, then cost, payment and margin."""
    return steps.record_drg(case_id, drg=drg)


@operator("intervention/record_follow_up")
def record_follow_up(*, idempotency_key: str, instance_id: int, case_id: int,
                     follow_up: dict[str, Any]) -> dict[str, Any]:
    """30-day follow-up and satisfaction (F4.5)."""
    return steps.record_follow_up(case_id, follow_up=follow_up)


@operator("intervention/close")
def close(*, idempotency_key: str, instance_id: int, case_id: int) -> dict[str, Any]:
    """结案."""
    return steps.close(case_id)
