"""Use cases of care plans: request a plan (the enrolment hook), propose or request a revision, and the steps the
`care_plan` process performs through its service tasks (open a version, save the draft, decide, acknowledge).

The process decides who does what (lanes, gateways); these functions keep the plan tables true and idempotent
(every step is keyed by the instance that performs it, so an outbox retry changes nothing).
"""
from __future__ import annotations

import os
from datetime import date
from typing import Any

from sqlalchemy import func, select, update

from app.audit.services import record
from app.auth.principal import Principal
from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.core.errors import Invalid
from app.notifications.services import notify
from app.residents.models import Resident
from app.vocabulary import Disease, RiskLevel
from app.workflows import hooks, messages, runner
from app.workflows.models import ProcessInstance

from . import content as plan_content
from . import safety
from .errors import (
    CarePlanNotFound,
    ProcessNotDeployed,
    RevisionInProgress,
    RevisionNotOpen,
    VersionNotFound,
)
from .models import CarePlan, CarePlanComment, CarePlanVersion

log = logs.get("care_plans")
MESSAGE = "care_plan_requested"
IN_PROGRESS = ("draft", "pending_approval", "returned")
IN_FORCE = ("approved", "acknowledged")
REPLACEABLE = ("draft", "returned")      # nobody's submission is waiting for approval: a new proposal supersedes it


def draft_expiry_days() -> int:
    """Days an open revision draft may wait at `propose_revision` before it expires (YGT_CARE_PLAN_DRAFT_EXPIRY_DAYS)."""
    return max(1, int(os.environ.get("YGT_CARE_PLAN_DRAFT_EXPIRY_DAYS", "30")))


def draft_reminder_days() -> int:
    """Days before expiry the draft's author is reminded (YGT_CARE_PLAN_DRAFT_REMINDER_DAYS, default 7)."""
    return max(0, min(int(os.environ.get("YGT_CARE_PLAN_DRAFT_REMINDER_DAYS", "7")), draft_expiry_days() - 1))


# -- requests (what other capabilities and the API call) ------------------------------------------------------

def request_plan(resident_id: int, disease: str, risk_level: str | None, *, requested_by: str = "system",
                 reason: str | None = None) -> dict[str, Any]:
    """Ask for a plan after enrolment and grading (the screening/stratify hook). Idempotent: nothing happens while
    a plan is being drafted or when the active plan already has this risk level; a changed risk level asks the
    township for a revision."""
    disease = Disease(disease)
    if disease not in plan_content.PLAN_DISEASES:
        return {"status": "not_applicable"}
    plan = _plan_for(resident_id, disease)
    if plan is not None and _open_version(plan.id) is not None:
        return {"status": "in_progress", "care_plan_id": plan.id}
    if plan is not None and plan.status == "active":
        if plan.risk_level == risk_level:
            return {"status": "unchanged", "care_plan_id": plan.id}
        return _start("revision_request", resident_id, disease, risk_level, requested_by=requested_by,
                      reason=reason or f"风险分层变化：{plan.risk_level} → {risk_level}")
    return _start("new", resident_id, disease, risk_level, requested_by=requested_by, reason=reason)


def request_revision(resident_id: int, disease: str, *, reason: str, requested_by: str) -> dict[str, Any]:
    """Ask the township to propose a revision (e.g. a follow-up found an adverse reaction). Idempotent."""
    disease = Disease(disease)
    plan = _plan_for(resident_id, disease)
    if plan is None or plan.status != "active":
        return request_plan(resident_id, disease, None, requested_by=requested_by, reason=reason)
    if _open_version(plan.id) is not None:
        return {"status": "in_progress", "care_plan_id": plan.id}
    return _start("revision_request", resident_id, disease, plan.risk_level, requested_by=requested_by,
                  reason=reason)


def propose_revision(care_plan_id: int, *, content: dict[str, Any], reason: str, principal: Principal
                     ) -> dict[str, Any]:
    """A township doctor proposes a new version; the county approves it in the `care_plan` process."""
    plan = get_plan(care_plan_id)
    if plan.status != "active":
        raise Invalid("方案尚未生效，不能提出修订 (plan is not active)", care_plan_id=care_plan_id)
    with unit_of_work():
        open_row = _open_version(plan.id, lock=True)
        if open_row is not None and open_row.status not in REPLACEABLE:
            raise RevisionInProgress("该方案已有待审核的修订 (a revision is waiting for approval)",
                                     care_plan_id=care_plan_id, version=open_row.version)
        if open_row is not None:        # a leftover draft nobody submitted: the new proposal supersedes it
            _close(open_row, status="superseded", by=principal.username,
                   reason=f"被新的修订提议取代：{reason}", actor=principal)
        checked, review = safety.checked_content(content, principal)       # 422 before anything starts (12.5)
        return _start("proposed", plan.resident_id, plan.disease, plan.risk_level, requested_by=principal.username,
                      reason=reason, proposal=plan_content.normalize(checked), regimen_review=review)


def _start(mode: str, resident_id: int, disease: str, risk_level: str | None, *, requested_by: str,
           reason: str | None, proposal: dict[str, Any] | None = None,
           regimen_review: str | None = None) -> dict[str, Any]:
    expiry = draft_expiry_days()
    payload = {"resident_id": resident_id, "disease": disease, "risk_level": risk_level, "mode": mode,
               "reason": reason or "", "requested_by": requested_by, "proposal": proposal,
               **({"regimen_review": regimen_review} if regimen_review else {}),
               "draft_expires_after": f"P{expiry}D", "draft_reminder_after": f"P{expiry - draft_reminder_days()}D"}
    delivery = messages.deliver(MESSAGE, payload, actor=runner.Actor(requested_by), resident_id=resident_id,
                                business_key=f"care_plan:{resident_id}:{disease}")
    if not delivery.started:
        raise ProcessNotDeployed("care_plan 流程未部署 (process care_plan is not deployed)", process_id="care_plan")
    return {"status": "started", "mode": mode, "instance_id": delivery.started[0]}


# -- steps of the care_plan process (called by its service-task operators) -----------------------------------

def open_version(instance_id: int, *, resident_id: int, disease: str, risk_level: str | None, mode: str,
                 proposal: dict[str, Any] | None, reason: str | None, requested_by: str | None) -> dict[str, Any]:
    """Create the version this instance works on (once per instance) and return what its forms start from."""
    disease = Disease(disease)          # instances started before migration 0008 carry the old code `dm`
    with unit_of_work() as s:
        plan = _plan_for(resident_id, disease, lock=True) or _new_plan(resident_id, disease, risk_level)
        plan.risk_level = risk_level or plan.risk_level
        row = s.scalars(select(CarePlanVersion).where(CarePlanVersion.instance_id == instance_id)).first()
        current = _version_row(plan.id, plan.current_version) if plan.current_version else None
        if row is None:
            start_from = proposal or (current.content if current else _defaults(resident_id, disease, risk_level))
            row = CarePlanVersion(care_plan_id=plan.id, version=_next_version(plan.id), instance_id=instance_id,
                                  kind="initial" if current is None else "revision",
                                  status="pending_approval" if proposal else "draft",
                                  content=plan_content.normalize(start_from), change_reason=reason,
                                  drafted_by=requested_by if proposal else None,
                                  drafted_at=clock.now() if proposal else None, created_at=clock.now())
            s.add(row)
            s.flush()
        return {"care_plan_id": plan.id, "version": row.version, "content": row.content,
                "drafted_by": row.drafted_by, "base_version": current.version if current else None,
                "changes": plan_content.diff(current.content, row.content) if current else [],
                "disease_label": Disease.label_of(disease),
                "risk_label": RiskLevel.label_of(risk_level) if risk_level else None}


def save_draft(instance_id: int, *, care_plan_id: int, version: int, content: dict[str, Any],
               change_reason: str | None, drafted_by: str | None) -> dict[str, Any]:
    """Store the drafted content and send the version for approval."""
    with unit_of_work():
        row = _version_row(care_plan_id, version, lock=True)
        row.content = plan_content.normalize(content)
        row.change_reason = change_reason or row.change_reason
        row.drafted_by, row.drafted_at, row.status = drafted_by, clock.now(), "pending_approval"
        current = get_plan(care_plan_id).current_version
        base = _version_row(care_plan_id, current).content if current else None
        return {"version": version, "drafted_by": row.drafted_by,
                "changes": plan_content.diff(base, row.content) if base else []}


def decide(instance_id: int, *, care_plan_id: int, version: int, approved: bool, comment: str | None,
           approver: str | None) -> dict[str, Any]:
    """Approve (the version comes into force) or return for changes; the approver must not be the drafter."""
    with unit_of_work() as s:
        row = _version_row(care_plan_id, version, lock=True)
        if row.status in IN_FORCE:
            return {"approved": True, "version": version}
        if comment:
            s.add(CarePlanComment(care_plan_id=care_plan_id, version=version, author=approver or "system",
                                  body=comment, created_at=clock.now()))
        if not approved:
            row.status = "returned"
            return {"approved": False, "version": version}
        if approver and approver == row.drafted_by:
            raise FourEyes("审核人不能是方案起草人 (the approver drafted this version)")
        _activate(s, row, approver)
        return {"approved": True, "version": version}


class FourEyes(Exception):
    """The approver of a version drafted it (the operator turns this into a BPMN error)."""


def _activate(s, row: CarePlanVersion, approver: str | None) -> None:
    plan = s.get(CarePlan, row.care_plan_id)
    s.execute(update(CarePlanVersion).where(CarePlanVersion.care_plan_id == plan.id,
                                            CarePlanVersion.status.in_(IN_FORCE), CarePlanVersion.id != row.id)
              .values(status="superseded"))
    row.status, row.approved_by, row.approved_at = "approved", approver, clock.now()
    plan.current_version, plan.status, plan.updated_at = row.version, "active", clock.now()
    hooks.emit(hooks.CARE_PLAN_APPROVED, plan=plan, version=row, approver=approver)


def acknowledge(instance_id: int, *, care_plan_id: int, version: int, acknowledged_by: str | None,
                note: str | None) -> dict[str, Any]:
    """The managing doctor confirms they received the plan."""
    with unit_of_work() as s:
        row = _version_row(care_plan_id, version, lock=True)
        if row.status == "approved":
            row.status, row.acknowledged_by, row.acknowledged_at = "acknowledged", acknowledged_by, clock.now()
        if note:
            s.add(CarePlanComment(care_plan_id=care_plan_id, version=version, author=acknowledged_by or "system",
                                  body=note, created_at=clock.now()))
        return {"acknowledged": True, "version": version}


def cancel_revision(care_plan_id: int, version: int, *, reason: str, principal: Principal) -> CarePlanVersion:
    """A supervisor or county admin ends an open revision (its process is terminated; the plan in force stays)."""
    if not (reason or "").strip():
        raise Invalid("请填写撤销原因 (a reason is required)", code="reason_required", field="reason")
    with unit_of_work():
        row = _version_row(care_plan_id, version, lock=True)
        if row.status not in IN_PROGRESS:
            raise RevisionNotOpen("该版本不是进行中的修订 (this version is not an open revision)",
                                  care_plan_id=care_plan_id, version=version, version_status=row.status)
        _close(row, status="cancelled", by=principal.username, reason=reason.strip(), actor=principal)
        return row


def remind_draft_author(instance_id: int, *, care_plan_id: int, version: int, recipients: list[int],
                        expires_after: str | None) -> dict[str, Any]:
    """Before an open revision draft expires: tell whoever holds (or is offered) its drafting task."""
    row = _version_row(care_plan_id, version)
    if row.status not in REPLACEABLE:
        return {"notified": 0}
    plan = get_plan(care_plan_id)
    resident = _resident(plan.resident_id)
    name = resident.name if resident else ""
    body = (f"{name}的{Disease.label_of(plan.disease)}管理方案第{version}版修订草稿尚未提交，将于"
            f"{draft_reminder_days()}天后自动过期（现行方案继续有效）。如仍需修订，请尽快提交。")
    told = sum(notify(user_id, kind="care_plan_draft_expiring", title=f"方案修订即将过期：{name}", body=body,
                      link=f"/residents/{plan.resident_id}", dedupe_key=f"care_plan:{row.id}:expiring:{user_id}")
               for user_id in dict.fromkeys(recipients))
    return {"notified": told}


def expire_draft(instance_id: int, *, care_plan_id: int, version: int, expires_after: str | None) -> dict[str, Any]:
    """The `care_plan` process's expiry timer fired: the unsubmitted revision draft no longer blocks revisions."""
    with unit_of_work():
        row = _version_row(care_plan_id, version, lock=True)
        if row.status in IN_PROGRESS:
            row.status, row.closed_by, row.closed_at = "expired", "system", clock.now()
            row.close_reason = f"修订草稿超过{_days(expires_after)}天未提交，已自动过期"
        return {"version": version, "status": row.status}


def close_version_of_instance(instance_id: int, *, closed_by: str, reason: str | None) -> None:
    """The instance working on a version was terminated (e.g. from the instance view): its open version is cancelled
    with who and why, so it no longer blocks revisions."""
    row = session().scalars(select(CarePlanVersion).where(CarePlanVersion.instance_id == instance_id,
                                                          CarePlanVersion.status.in_(IN_PROGRESS))).first()
    if row is not None:
        row.status, row.closed_by, row.closed_at = "cancelled", closed_by, clock.now()
        row.close_reason = reason or "流程实例已终止"


def _days(duration: str | None) -> str:
    text = (duration or "").upper()
    return text[1:-1] if text.startswith("P") and text.endswith("D") else text or "?"


def _close(row: CarePlanVersion, *, status: str, by: str, reason: str, actor: Principal) -> None:
    """End an open version and terminate the `care_plan` instance working on it (in the caller's transaction)."""
    inst = session().get(ProcessInstance, row.instance_id) if row.instance_id else None
    if inst is not None and inst.status not in runner.FINAL:
        runner.terminate_instance(inst.id, runner.Actor.of(actor), reason=reason)
    row.status, row.closed_by, row.closed_at, row.close_reason = status, by, clock.now(), reason
    record(f"care_plan.revision_{status}", object_type="care_plan", object_id=row.care_plan_id, principal=actor,
           details={"version": row.version, "reason": reason, "instance_id": row.instance_id})


def set_risk_level(resident_id: int, disease: str, risk_level: str | None) -> None:
    with unit_of_work():
        plan = _plan_for(resident_id, disease)
        if plan is not None and risk_level:
            plan.risk_level = risk_level


def add_comment(care_plan_id: int, *, body: str, version: int | None, principal: Principal) -> CarePlanComment:
    """Comment on a plan (or one of its versions) during a revision."""
    with unit_of_work() as s:
        get_plan(care_plan_id)
        if version is not None:
            _version_row(care_plan_id, version)
        row = CarePlanComment(care_plan_id=care_plan_id, version=version, author=principal.username, body=body,
                              created_at=clock.now())
        s.add(row)
        s.flush()
        return row


# -- helpers --------------------------------------------------------------------------------------------------

def get_plan(care_plan_id: int) -> CarePlan:
    plan = session().get(CarePlan, care_plan_id)
    if plan is None:
        raise CarePlanNotFound("管理方案不存在 (care plan not found)", care_plan_id=care_plan_id)
    return plan


def _plan_for(resident_id: int, disease: str, *, lock: bool = False) -> CarePlan | None:
    stmt = select(CarePlan).where(CarePlan.resident_id == resident_id, CarePlan.disease == disease)
    return session().scalars(stmt.with_for_update() if lock else stmt).first()


def _open_version(care_plan_id: int, *, lock: bool = False) -> CarePlanVersion | None:
    stmt = select(CarePlanVersion).where(CarePlanVersion.care_plan_id == care_plan_id,
                                         CarePlanVersion.status.in_(IN_PROGRESS)).order_by(CarePlanVersion.version)
    return session().scalars(stmt.with_for_update() if lock else stmt).first()


def _version_row(care_plan_id: int, version: int, *, lock: bool = False) -> CarePlanVersion:
    stmt = select(CarePlanVersion).where(CarePlanVersion.care_plan_id == care_plan_id,
                                         CarePlanVersion.version == version)
    row = session().scalars(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise VersionNotFound("方案版本不存在 (version not found)", care_plan_id=care_plan_id, version=version)
    return row


def _next_version(care_plan_id: int) -> int:
    return (session().scalar(select(func.max(CarePlanVersion.version))
                             .where(CarePlanVersion.care_plan_id == care_plan_id)) or 0) + 1


def _new_plan(resident_id: int, disease: str, risk_level: str | None) -> CarePlan:
    resident = _resident(resident_id)
    now = clock.now()
    plan = CarePlan(resident_id=resident_id, disease=disease, risk_level=risk_level, status="drafting",
                    org_code=resident.org_code if resident else None, org_path=resident.org_path if resident else None,
                    created_at=now, updated_at=now)
    session().add(plan)
    session().flush()
    return plan


def _resident(resident_id: int):
    return session().get(Resident, resident_id)


def resident_ages(resident_ids: list[int]) -> dict[int, int | None]:
    """`resident_age` of many residents with one query per thousand (batch starts)."""
    ids = sorted(set(resident_ids))
    out: dict[int, int | None] = {}
    for i in range(0, len(ids), 1000):
        for rid, born in session().execute(select(Resident.id, Resident.birth_date)
                                           .where(Resident.id.in_(ids[i:i + 1000]))):
            out[rid] = clock.age(born) if born else None
    return out


def resident_age(resident_id: int, on: date | None = None) -> int | None:
    resident = _resident(resident_id)
    if resident is None:
        return None
    return clock.age(resident.birth_date, on)


def _defaults(resident_id: int, disease: str, risk_level: str | None) -> dict[str, Any]:
    other = Disease.T2DM if disease == Disease.HTN else Disease.HTN
    has_dm = disease == Disease.HTN and _plan_for(resident_id, other) is not None
    return plan_content.default_content(disease, risk_level, age=resident_age(resident_id), has_diabetes=has_dm)
