"""Service-task operators of `remote_consult` (run through the outbox; each step idempotent)."""
from __future__ import annotations

from typing import Any

from app.workflows.bindings import operator

from . import steps


@operator("consult/check_agreement")
def check_agreement(*, idempotency_key: str, instance_id: int, consult_id: int) -> dict[str, Any]:
    """An active 远程医疗合作协议 between the two organisations, or the reason why not."""
    return steps.check_agreement(consult_id)


@operator("consult/stop")
def stop(*, idempotency_key: str, instance_id: int, consult_id: int, status: str, reason: str) -> dict[str, Any]:
    """End the consult before the invitation (no agreement, no consent) with the reason."""
    return steps.stop(consult_id, status=status, reason=reason)


@operator("consult/register")
def register(*, idempotency_key: str, instance_id: int, consult_id: int, accept_sla: str, report_sla: str,
             sla_rule: str, priority: int) -> dict[str, Any]:
    """Record R4's SLAs."""
    return steps.register(consult_id, accept_sla=accept_sla, report_sla=report_sla, sla_rule=sla_rule,
                          priority=priority)


@operator("consult/record_consent")
def record_consent(*, idempotency_key: str, instance_id: int, consult_id: int,
                   consent: dict[str, Any]) -> dict[str, Any]:
    """F2.2 with the drawn signature."""
    return steps.record_consent(consult_id, consent=consent)


@operator("consult/record_review")
def record_review(*, idempotency_key: str, instance_id: int, consult_id: int,
                  review: dict[str, Any]) -> dict[str, Any]:
    """The requester side's review."""
    return steps.record_review(consult_id, review=review)


@operator("consult/record_revision")
def record_revision(*, idempotency_key: str, instance_id: int, consult_id: int,
                    revision: dict[str, Any]) -> dict[str, Any]:
    """The requester's additions after a return."""
    return steps.record_revision(consult_id, revision=revision)


@operator("consult/invite")
def invite(*, idempotency_key: str, instance_id: int, consult_id: int) -> dict[str, Any]:
    """Send the invitation to the invited side's queue."""
    return steps.invite(consult_id)


@operator("consult/escalate")
def escalate(*, idempotency_key: str, instance_id: int, consult_id: int, stage: str) -> dict[str, Any]:
    """An SLA passed (acceptance or report)."""
    return steps.escalate(consult_id, stage=stage)


@operator("consult/decline_timeout")
def decline_timeout(*, idempotency_key: str, instance_id: int, consult_id: int) -> dict[str, Any]:
    """Second acceptance timeout: declined with reason `timeout`."""
    return steps.decline_timeout(consult_id)


@operator("consult/decide")
def decide(*, idempotency_key: str, instance_id: int, consult_id: int,
           acceptance: dict[str, Any]) -> dict[str, Any]:
    """Accept, or decline with a reason."""
    return steps.decide(consult_id, acceptance=acceptance)


@operator("consult/candidates")
def candidates(*, idempotency_key: str, instance_id: int, consult_id: int, min_title_rank: int,
               lead_min_title_rank: int, experts_needed: int) -> dict[str, Any]:
    """R5: qualifying experts, ranked by load and continuity."""
    return steps.candidates(consult_id, min_title_rank=min_title_rank, lead_min_title_rank=lead_min_title_rank,
                            experts_needed=experts_needed)


@operator("consult/schedule")
def schedule(*, idempotency_key: str, instance_id: int, consult_id: int,
             assignment: dict[str, Any]) -> dict[str, Any]:
    """Record the experts and the slot; open the live room for a real-time consult."""
    return steps.schedule(consult_id, assignment=assignment)


@operator("consult/release")
def release(*, idempotency_key: str, instance_id: int, consult_id: int, reassign: dict[str, Any]) -> dict[str, Any]:
    """The lead declined or the 医务科 reassigns: release the experts; the 医务科 assigns again."""
    return steps.release(consult_id, reassign=reassign)


@operator("consult/sign_report")
def sign_report(*, idempotency_key: str, instance_id: int, consult_id: int,
                report: dict[str, Any]) -> dict[str, Any]:
    """The lead's signed summary, the PDF archived on both sides, the room closed."""
    return steps.sign_report(consult_id, report=report)


@operator("consult/raise_referral")
def raise_referral(*, idempotency_key: str, instance_id: int, consult_id: int,
                   deterioration: dict[str, Any]) -> dict[str, Any]:
    """Deterioration: an emergency referral, the consult goes on."""
    return steps.raise_referral(consult_id, deterioration=deterioration)


@operator("consult/record_adoption")
def record_adoption(*, idempotency_key: str, instance_id: int, consult_id: int,
                    adoption: dict[str, Any]) -> dict[str, Any]:
    """F2.4."""
    return steps.record_adoption(consult_id, adoption=adoption)


@operator("consult/close")
def close(*, idempotency_key: str, instance_id: int, consult_id: int,
          evaluation: dict[str, Any]) -> dict[str, Any]:
    """F2.5, billing, the satisfaction SMS."""
    return steps.close(consult_id, evaluation=evaluation)
