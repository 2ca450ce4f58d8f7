"""Service-task operators of `anticoag_monitoring` (run through the outbox; each idempotent on its key)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.db import session
from app.workflows.bindings import operator
from app.workflows.models import HumanTask

from . import services


def completed_by(instance_id: int, element_id: str) -> str:
    """Who completed the latest task of this element in the instance (the task projection keeps it)."""
    return session().scalars(select(HumanTask.completed_by).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == element_id,
        HumanTask.status == "completed").order_by(HumanTask.id.desc())).first() or "system"


@operator("anticoag/plan")
def plan(*, idempotency_key: str, instance_id: int, episode_id: int, agreed_on: str | None = None) -> dict[str, Any]:
    """The next checks from `monitoring_plan` (R7); `agreed_on` after an overdue check was followed up."""
    return services.plan(int(episode_id), agreed_on=agreed_on or None)


@operator("anticoag/remind")
def remind(*, idempotency_key: str, instance_id: int, episode_id: int, plan: dict[str, Any]) -> dict[str, Any]:
    """Two days before a check: the village doctor and (with consent) the patient."""
    return services.remind(int(episode_id), instance_id=instance_id, plan_=plan or {})


@operator("anticoag/overdue")
def overdue(*, idempotency_key: str, instance_id: int, episode_id: int, plan: dict[str, Any]) -> dict[str, Any]:
    """Three days past due without a result: the village doctor is reminded again."""
    return services.overdue(int(episode_id), instance_id=instance_id, plan_=plan or {})


@operator("anticoag/escalate")
def escalate(*, idempotency_key: str, instance_id: int, episode_id: int, plan: dict[str, Any]) -> dict[str, Any]:
    """Seven days past due: the round passes to the township doctor."""
    return services.escalate(int(episode_id), plan_=plan or {})


@operator("anticoag/dose_change")
def dose_change(*, idempotency_key: str, instance_id: int, episode_id: int, dose: dict[str, Any]) -> dict[str, Any]:
    """How far the decided weekly warfarin dose moves from the current one (> 20 % needs a co-sign)."""
    return services.dose_change(int(episode_id), dose=dose or {})


@operator("anticoag/cosign_refused")
def cosign_refused(*, idempotency_key: str, instance_id: int, episode_id: int, cosign: dict[str, Any],
                   change: dict[str, Any]) -> dict[str, Any]:
    """The pharmacist refused to co-sign: nothing applied, the prescriber is told."""
    return services.cosign_refused(int(episode_id), key=idempotency_key, instance_id=instance_id,
                                   cosign=cosign or {}, change=change or {},
                                   pharmacist=completed_by(instance_id, "dose_cosign"))


@operator("anticoag/record")
def record(*, idempotency_key: str, instance_id: int, episode_id: int, entry: dict[str, Any]) -> dict[str, Any]:
    """The monitoring form's results, graded (warfarin_inr; renal dose band)."""
    return services.record_entry(int(episode_id), idempotency_key=idempotency_key, entry=entry or {},
                                 recorded_by=completed_by(instance_id, "monitoring_entry"))


@operator("anticoag/urgent")
def urgent(*, idempotency_key: str, instance_id: int, episode_id: int, graded: dict[str, Any]) -> dict[str, Any]:
    """Bleeding or INR ≥ 4.5: an emergency referral (app.referral)."""
    return services.raise_urgent(int(episode_id), result_id=(graded or {}).get("result_id"),
                                 text=(graded or {}).get("text", ""))


@operator("anticoag/decision")
def decision(*, idempotency_key: str, instance_id: int, episode_id: int, kind: str, element_id: str,
             data: dict[str, Any]) -> dict[str, Any]:
    """A clinician's or pharmacist's answer on the episode."""
    return services.record_decision(int(episode_id), kind=kind, actor=completed_by(instance_id, element_id),
                                    data=data or {})


@operator("anticoag/stop")
def stop(*, idempotency_key: str, instance_id: int, episode_id: int,
         stopped: dict[str, Any] | None = None) -> dict[str, Any]:
    """The anticoagulant was stopped (or the patient died / moved)."""
    told = stopped or {}
    return services.stop(int(episode_id), reason=told.get("reason") or "停药", actor=told.get("by") or "system")
