"""Service-task operators of `referral_up` and `referral_down` (run through the outbox; each step idempotent)."""
from __future__ import annotations

from typing import Any

from app.screening import services as screening
from app.workflows.bindings import operator

from . import steps
from .services import request_referral


@operator("referral/register")
def register(*, idempotency_key: str, instance_id: int, referral_id: int, urgency: str, reason_code: str,
             capability: str) -> dict[str, Any]:
    """Record the urgency (R1) and answer what routing and the sender's tasks need."""
    return steps.register(referral_id, urgency=urgency, reason_code=reason_code, capability=capability)


@operator("referral/route")
def route(*, idempotency_key: str, instance_id: int, referral_id: int, target_level: str,
          needs_approval: bool) -> dict[str, Any]:
    """Record the route (R3)."""
    return steps.route(referral_id, target_level=target_level, needs_approval=needs_approval)


@operator("referral/offer_emergency")
def offer_emergency(*, idempotency_key: str, instance_id: int, referral_id: int) -> dict[str, Any]:
    """Emergency: offer to the nearest capable ED and notify at once."""
    return steps.offer_emergency(referral_id)


@operator("referral/record_emergency")
def record_emergency(*, idempotency_key: str, instance_id: int, referral_id: int,
                     handling: dict[str, Any]) -> dict[str, Any]:
    """Keep the sender's first-aid record."""
    return steps.record_emergency(referral_id, handling=handling)


@operator("referral/submit_form")
def submit_form(*, idempotency_key: str, instance_id: int, referral_id: int, form: dict[str, Any]) -> dict[str, Any]:
    """Store the 转诊单 and check the chosen department's capability."""
    return steps.submit_form(referral_id, form=form)


@operator("referral/request_approval")
def request_approval(*, idempotency_key: str, instance_id: int, referral_id: int) -> dict[str, Any]:
    """Ask the supervisors for the out-of-county approval."""
    return steps.request_approval(referral_id)


@operator("referral/record_approval")
def record_approval(*, idempotency_key: str, instance_id: int, referral_id: int, approved: bool,
                    hospital: str | None = None, filing_no: str | None = None, opinion: str | None = None,
                    approver: str | None = None) -> dict[str, Any]:
    """Record the out-of-county approval and 医保备案."""
    return steps.record_approval(referral_id, approved=approved, hospital=hospital, filing_no=filing_no,
                                 opinion=opinion, approver=approver)


@operator("referral/offer")
def offer(*, idempotency_key: str, instance_id: int, referral_id: int) -> dict[str, Any]:
    """Offer to the receiving department's queue."""
    return steps.offer(referral_id)


@operator("referral/escalate_review")
def escalate_review(*, idempotency_key: str, instance_id: int, referral_id: int) -> dict[str, Any]:
    """The acceptance SLA passed."""
    return steps.escalate_review(referral_id)


@operator("referral/decide")
def decide(*, idempotency_key: str, instance_id: int, referral_id: int, decision: str,
           reject_reason: str | None = None, reject_note: str | None = None, redirect_org: str | None = None,
           visit_mode: str | None = None, suggested_date: str | None = None,
           decided_by: str | None = None) -> dict[str, Any]:
    """Accept, reject (with reason) or redirect."""
    return steps.decide(referral_id, decision=decision, reject_reason=reject_reason, reject_note=reject_note,
                        redirect_org=redirect_org, visit_mode=visit_mode, suggested_date=suggested_date,
                        decided_by=decided_by)


@operator("referral/revise")
def revise(*, idempotency_key: str, instance_id: int, referral_id: int, action: str,
           target_org: str | None = None, note: str | None = None) -> dict[str, Any]:
    """After a rejection: re-target or cancel."""
    return steps.revise(referral_id, action=action, target_org=target_org, note=note)


@operator("referral/book")
def book(*, idempotency_key: str, instance_id: int, referral_id: int, appointment_at: str,
         place: str | None = None, note: str | None = None) -> dict[str, Any]:
    """Record the appointment and tell the patient."""
    return steps.book(referral_id, appointment_at=appointment_at, place=place, note=note)


@operator("referral/confirm_arrival")
def confirm_arrival(*, idempotency_key: str, instance_id: int, referral_id: int,
                    arrival: dict[str, Any] | None = None) -> dict[str, Any]:
    """The patient arrived."""
    return steps.confirm_arrival(referral_id, arrival=arrival)


@operator("referral/record_no_show")
def record_no_show(*, idempotency_key: str, instance_id: int, referral_id: int, outcome: str,
                   reason: str | None = None) -> dict[str, Any]:
    """The sender's no-show check."""
    return steps.record_no_show(referral_id, outcome=outcome, reason=reason)


@operator("referral/record_result")
def record_result(*, idempotency_key: str, instance_id: int, referral_id: int,
                  result: dict[str, Any]) -> dict[str, Any]:
    """The 回执 back to the sender."""
    return steps.record_result(referral_id, result=result)


@operator("referral/start_down")
def start_down(*, idempotency_key: str, instance_id: int, referral_id: int,
               reason: str | None = None) -> dict[str, Any]:
    """Start the down-referral."""
    return steps.start_down(referral_id, reason=reason)


@operator("referral/record_follow_up")
def record_follow_up(*, idempotency_key: str, instance_id: int, referral_id: int,
                     follow_up: dict[str, Any]) -> dict[str, Any]:
    """The sender's 2-week follow-up."""
    return steps.record_follow_up(referral_id, follow_up=follow_up)


@operator("referral/down_inputs")
def down_inputs(*, idempotency_key: str, instance_id: int, referral_id: int, form: dict[str, Any]) -> dict[str, Any]:
    """Store the 下转单 and the system checks for R2."""
    return steps.down_inputs(referral_id, form=form)


@operator("referral/offer_down")
def offer_down(*, idempotency_key: str, instance_id: int, referral_id: int, eligibility: dict[str, Any],
               override_reason: str | None = None) -> dict[str, Any]:
    """Issue the 下转单 to the receiving township/village."""
    return steps.offer_down(referral_id, eligibility=eligibility, override_reason=override_reason)


@operator("referral/receive_down")
def receive_down(*, idempotency_key: str, instance_id: int, referral_id: int, receipt: dict[str, Any],
                 received_by: str | None = None) -> dict[str, Any]:
    """Receipt: refresh the care plan, set the first follow-up."""
    return steps.receive_down(referral_id, receipt=receipt, received_by=received_by)


@operator("referral/record_first_follow_up")
def record_first_follow_up(*, idempotency_key: str, instance_id: int, referral_id: int,
                           visit: dict[str, Any]) -> dict[str, Any]:
    """The first follow-up after the down-referral."""
    return steps.record_first_follow_up(referral_id, visit=visit)


@operator("referral/request_again")
def request_again(*, idempotency_key: str, instance_id: int, referral_id: int) -> dict[str, Any]:
    """Deterioration: refer up again."""
    return steps.request_again(referral_id)


@operator("referral/from_screening")
def from_screening(*, idempotency_key: str, instance_id: int, case_id: int, resident_id: int, disease: str,
                   reason: str, from_org_code: str | None = None) -> dict[str, Any]:
    """The township's verification needs confirmation upstairs (R1 `SCR_CONFIRM`): start `referral_up` through the
    public entry point (once per screening case) and close the case as referred."""
    row = request_referral(resident_id=resident_id, source="screening", trigger="screening", disease=disease,
                           reason=reason, source_key=f"screening_case:{case_id}", source_instance_id=instance_id,
                           from_org_code=from_org_code)
    screening.close_case(case_id, status="referred", reason=reason)
    return {"referral_id": row.id, "referral_no": row.referral_no}
