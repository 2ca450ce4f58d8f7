"""Service-task operators of the `care_plan` process (run through the outbox; each step keyed by its instance)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.db import session
from app.notifications.jobs import recipients
from app.workflows.bindings import ServiceError, operator
from app.workflows.models import HumanTask

from . import services


def completed_by(instance_id: int, element_ids: tuple[str, ...]) -> str | None:
    """Who completed the latest of these user tasks in the instance (the task projection keeps it)."""
    return session().scalars(select(HumanTask.completed_by).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id.in_(element_ids),
        HumanTask.status == "completed").order_by(HumanTask.id.desc())).first()


@operator("care_plan/open")
def open_version(*, idempotency_key: str, instance_id: int, resident_id: int, disease: str,
                 risk_level: str | None = None, mode: str = "new", proposal: dict | None = None,
                 reason: str | None = None, requested_by: str | None = None) -> dict[str, Any]:
    """Create (once) the version this instance drafts or reviews; return the content the forms start from."""
    return services.open_version(instance_id, resident_id=int(resident_id), disease=disease, risk_level=risk_level,
                                 mode=mode, proposal=proposal, reason=reason, requested_by=requested_by)


@operator("care_plan/save_draft")
def save_draft(*, idempotency_key: str, instance_id: int, care_plan_id: int, version: int, content: dict,
               change_reason: str | None = None) -> dict[str, Any]:
    """Store the drafted plan and send it for approval."""
    drafter = completed_by(instance_id, ("draft_plan_county", "draft_plan_township", "propose_revision"))
    return services.save_draft(instance_id, care_plan_id=int(care_plan_id), version=int(version), content=content,
                               change_reason=change_reason, drafted_by=drafter)


@operator("care_plan/decide")
def decide(*, idempotency_key: str, instance_id: int, care_plan_id: int, version: int, approved: bool,
           comment: str | None = None) -> dict[str, Any]:
    """Approve the version (it comes into force, the follow-up schedule follows) or return it."""
    approver = completed_by(instance_id, ("approve_plan",))
    try:
        return services.decide(instance_id, care_plan_id=int(care_plan_id), version=int(version),
                               approved=bool(approved), comment=comment, approver=approver)
    except services.FourEyes as exc:
        raise ServiceError("four_eyes", str(exc)) from exc


@operator("care_plan/acknowledge")
def acknowledge(*, idempotency_key: str, instance_id: int, care_plan_id: int, version: int,
                note: str | None = None) -> dict[str, Any]:
    """Record that the managing doctor received the plan."""
    who = completed_by(instance_id, ("acknowledge_plan",))
    return services.acknowledge(instance_id, care_plan_id=int(care_plan_id), version=int(version),
                                acknowledged_by=who, note=note)


@operator("care_plan/request")
def request(*, idempotency_key: str, instance_id: int, resident_id: int, disease: str,
            risk_level: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """For other processes (e.g. `stratify`): ask for a care plan once a resident is enrolled and graded."""
    return services.request_plan(int(resident_id), disease, risk_level, requested_by="process", reason=reason)


@operator("care_plan/request_revision")
def request_revision(*, idempotency_key: str, instance_id: int, resident_id: int, disease: str,
                     reason: str) -> dict[str, Any]:
    """For `follow_up`: ask the township to propose a plan revision (idempotent while one is in progress)."""
    return services.request_revision(int(resident_id), disease, reason=reason, requested_by="follow_up")


@operator("care_plan/remind_draft")
def remind_draft(*, idempotency_key: str, instance_id: int, care_plan_id: int, version: int,
                 expires_after: str | None = None) -> dict[str, Any]:
    """Before an open revision draft expires, tell the holder of its drafting task (else the offered doctors)."""
    task = session().scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == "propose_revision",
        HumanTask.status == "open").order_by(HumanTask.id.desc())).first()
    return services.remind_draft_author(instance_id, care_plan_id=int(care_plan_id), version=int(version),
                                        recipients=recipients(task) if task is not None else [],
                                        expires_after=expires_after)


@operator("care_plan/expire")
def expire(*, idempotency_key: str, instance_id: int, care_plan_id: int, version: int,
           expires_after: str | None = None) -> dict[str, Any]:
    """The expiry timer fired: close the unsubmitted revision draft (the plan in force stays)."""
    return services.expire_draft(instance_id, care_plan_id=int(care_plan_id), version=int(version),
                                 expires_after=expires_after)
