"""Service-task operators of `rx_prereview` (run through the outbox; each step idempotent per version)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.db import session
from app.workflows.bindings import operator
from app.workflows.models import HumanTask

from . import services


def completed_by(instance_id: int, element_id: str) -> str | None:
    """Who completed the latest task of this element in the instance (the task projection keeps it)."""
    return session().scalars(select(HumanTask.completed_by).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == element_id,
        HumanTask.status == "completed").order_by(HumanTask.id.desc())).first()


@operator("rx/legality")
def record_legality(*, idempotency_key: str, instance_id: int, prescription_id: int,
                    codes: list[str] | None = None, grades: list[str] | None = None,
                    messages: list[str] | None = None) -> dict[str, Any]:
    """R6a `rx_legality`'s findings onto the prescription; the grade and the organisation's auto-pass switch back."""
    return services.record_legality(int(prescription_id), codes=codes, grades=grades, messages=messages)


@operator("rx/auto_pass")
def auto_pass(*, idempotency_key: str, instance_id: int, prescription_id: int) -> dict[str, Any]:
    """No finding above info and auto-pass switched on for these drug classes here: released without a pharmacist."""
    return services.auto_pass(int(prescription_id))


@operator("rx/decide")
def decide(*, idempotency_key: str, instance_id: int, prescription_id: int, decision: str,
           problems: list[str] | None = None, opinion: str | None = None,
           suggested_dose: str | None = None) -> dict[str, Any]:
    """Record the pharmacist's conclusion (and who signed it)."""
    return services.decide(int(prescription_id), pharmacist=completed_by(instance_id, "pharmacist_review"),
                           decision=decision, problems=problems, opinion=opinion, suggested_dose=suggested_dose)


@operator("rx/reply")
def reply(*, idempotency_key: str, instance_id: int, prescription_id: int, action: str,
          items: list[dict[str, Any]] | None = None, reason: str | None = None) -> dict[str, Any]:
    """Record the prescriber's answer; a modified version is checked again."""
    return services.reply(int(prescription_id), prescriber=completed_by(instance_id, "prescriber_reply"),
                          action=action, items=items, reason=reason)


@operator("rx/double_sign")
def double_sign(*, idempotency_key: str, instance_id: int, prescription_id: int, decision: str,
                opinion: str | None = None) -> dict[str, Any]:
    """Record the second pharmacist's signature."""
    return services.double_sign(int(prescription_id), pharmacist=completed_by(instance_id, "double_sign"),
                                first_pharmacist=completed_by(instance_id, "pharmacist_review"),
                                decision=decision, opinion=opinion)


@operator("rx/error_report")
def error_report(*, idempotency_key: str, instance_id: int, prescription_id: int) -> dict[str, Any]:
    """用药差错报告 of a refused prescription (written with the refusal; its id and category back to the instance)."""
    return services.error_report(int(prescription_id))


@operator("rx/escalate")
def escalate(*, idempotency_key: str, instance_id: int, prescription_id: int) -> dict[str, Any]:
    """The review SLA passed."""
    return services.escalate(int(prescription_id))
