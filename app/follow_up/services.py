"""Use cases of one follow-up cycle (called by the `follow_up` process's service tasks) and device readings.

`record_visit` closes the cycle: it stores the 随访服务记录表 with the decision's classification, moves the schedule
to the next due date (T19: 控制满意 ≤90 d / the plan's interval, otherwise 14 d) and keeps the count of consecutive
uncontrolled visits that feeds `prev_uncontrolled`. `refer` hands the request to the referral capability, which
starts `referral_up` (the request row stays as the follow-up's record, status `converted`). Every step is
idempotent (keyed by visit).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.referral import services as referral_services
from app.residents import intake
from app.vocabulary import Disease
from app.workflows import hooks

from .models import FollowUpSchedule, FollowUpVisit, ReferralRequest

log = logs.get("follow_up")
REFERRAL_ACTIONS = ("转诊", "紧急转诊")
LOST_RETRY_DAYS = 14          # 失访: try again within two weeks [P]
REFERRAL_FOLLOW_UP_DAYS = 14  # T04a/T04d: 2周内主动随访转诊情况


def record_visit(instance_id: int, *, visit_id: int, record: dict[str, Any], classification: str | None = None,
                 action: str | None = None, next_due_days: int | None = None, sbp: int | None = None,
                 dbp: int | None = None, performed_by: str | None = None, decision: dict | None = None
                 ) -> dict[str, Any]:
    """Store the visit, classify it and schedule the next one; a second call returns the first result."""
    with unit_of_work() as s:
        visit = s.scalars(select(FollowUpVisit).where(FollowUpVisit.id == visit_id).with_for_update()).one()
        if visit.status == "done":
            return _result(visit)
        schedule = s.scalars(select(FollowUpSchedule).where(FollowUpSchedule.id == visit.schedule_id)
                             .with_for_update()).one()
        _fill(visit, record, classification, action, next_due_days, sbp, dbp, performed_by, decision)
        _advance(schedule, visit, record)
        visit.status, visit.completed_at = "done", clock.now()
        _to_health_record(visit)
        hooks.emit(hooks.FOLLOW_UP_RECORDED, resident_id=visit.resident_id, visit_id=visit.id,
                   disease=visit.disease, visited_on=visit.visited_on, visit_type=visit.visit_type,
                   performed_by=performed_by)
        return _result(visit)


def _fill(visit: FollowUpVisit, record, classification, action, next_due_days, sbp, dbp, performed_by, decision):
    info, signs = record.get("visit") or {}, record.get("signs") or {}
    labs = record.get("labs") or {}
    visit.record = record
    visit.visited_on = _date(info.get("visit_date")) or clock.today()
    visit.visit_type = info.get("visit_type")
    visit.sbp, visit.dbp = sbp, dbp
    visit.heart_rate, visit.weight_kg = signs.get("heart_rate"), signs.get("weight_kg")
    visit.fpg, visit.hba1c = labs.get("fpg"), labs.get("hba1c")
    visit.classification, visit.action, visit.next_due_days = classification, action, next_due_days
    visit.performed_by, visit.decision = performed_by, decision


def _advance(schedule: FollowUpSchedule, visit: FollowUpVisit, record: dict[str, Any]) -> None:
    outcome = (record.get("visit") or {}).get("outcome", "完成随访")
    visited = visit.visited_on or clock.today()
    if outcome == "死亡":
        schedule.status, next_due = "closed", None
    elif outcome == "失访":
        next_due = visited + timedelta(days=LOST_RETRY_DAYS)
    else:
        days = visit.next_due_days or schedule.interval_days
        if visit.action == "常规随访":
            days = min(days, schedule.interval_days)       # the plan may ask for more frequent follow-up
        next_due = visited + timedelta(days=days)
        asked = _date((record.get("assessment") or {}).get("next_visit_date"))
        if asked is not None and visited < asked < next_due:
            next_due = asked                                 # a doctor may bring the next visit forward, not delay it
        uncontrolled = visit.classification == "控制不满意"
        schedule.consecutive_uncontrolled = (schedule.consecutive_uncontrolled + 1) if uncontrolled else 0
        if visit.action in REFERRAL_ACTIONS:
            schedule.consecutive_uncontrolled = 0           # referred: the chain restarts after the referral
        schedule.last_classification, schedule.last_visit_on = visit.classification, visited
    visit.next_due_on = next_due
    if next_due is not None:
        schedule.next_due_on = next_due
    schedule.open_visit_id, schedule.updated_at = None, clock.now()


def _result(visit: FollowUpVisit) -> dict[str, Any]:
    assessment = (visit.record or {}).get("assessment") or {}
    referral = visit.action in REFERRAL_ACTIONS
    revision = not referral and (visit.classification == "不良反应" or bool(assessment.get("request_plan_revision")))
    return {"visit_id": visit.id, "classification": visit.classification, "action": visit.action,
            "next_due_on": visit.next_due_on.isoformat() if visit.next_due_on else None,
            "needs_referral": referral, "needs_plan_revision": revision,
            "revision_reason": assessment.get("revision_reason") or (
                "随访发现药物不良反应，需调整用药" if visit.classification == "不良反应" else "随访医生申请调整方案")}


def _date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


OBSERVATION_CODES = {"sbp": ("8480-6", "mm[Hg]"), "dbp": ("8462-4", "mm[Hg]"), "heart_rate": ("8867-4", "/min"),
                     "fpg": ("1558-6", "mmol/L"), "hba1c": ("4548-4", "%"), "weight_kg": ("29463-7", "kg")}


def _to_health_record(visit: FollowUpVisit) -> None:
    """Write the visit's values into the resident's health record."""
    assert visit.visited_on is not None  # _fill sets it (the visit date, else today) before this runs
    at = datetime.combine(visit.visited_on, datetime.min.time()).replace(tzinfo=clock.now().tzinfo)
    facts = [intake.ObservationFact(code=code, value=getattr(visit, attr), unit=unit, effective_at=at,
                                    client_id=f"follow_up:{visit.id}:{code}")
             for attr, (code, unit) in OBSERVATION_CODES.items() if getattr(visit, attr) is not None]
    intake.submit(visit.resident_id, facts, source="follow_up")     # the visit's values: one submission


# -- referral -------------------------------------------------------------------------------------------------

def refer(instance_id: int, *, visit_id: int, resident_id: int, disease: str, action: str,
          classification: str | None, reason: str) -> dict[str, Any]:
    """Ask for a referral: keep the follow-up's request row and hand it to the referral capability
    (`referral.services.request_referral`, the public "referral requested" entry point), which starts `referral_up`
    (or keeps the request until that model is deployed). Idempotent per visit."""
    disease = Disease(disease)          # instances started before migration 0008 carry the old code `dm`
    with unit_of_work() as s:
        key = f"follow_up_visit:{visit_id}"
        row = s.scalars(select(ReferralRequest).where(ReferralRequest.source_key == key).with_for_update()).first()
        if row is None:
            schedule = s.scalars(select(FollowUpSchedule).where(FollowUpSchedule.resident_id == resident_id,
                                                                FollowUpSchedule.disease == disease)).first()
            row = ReferralRequest(source_key=key, resident_id=resident_id, disease=disease, action=action,
                                  urgency="emergency" if action == "紧急转诊" else "routine", reason=reason,
                                  source_visit_id=visit_id, source_instance_id=instance_id,
                                  org_code=schedule.org_code if schedule else None, status="pending",
                                  follow_up_due_on=clock.today() + timedelta(days=REFERRAL_FOLLOW_UP_DAYS),
                                  created_at=clock.now())
            s.add(row)
            s.flush()
        referral = referral_services.request_referral(
            resident_id=resident_id, source="follow_up", trigger="emergency" if action == "紧急转诊" else "follow_up",
            disease=disease, reason=reason, source_key=key, source_instance_id=instance_id,
            from_org_code=row.org_code)
        if row.status == "pending":
            row.status, row.picked_up_at = "converted", clock.now()
        row.referral_instance_id = referral.instance_id
        return {"referral_request_id": row.id, "status": row.status, "urgency": row.urgency,
                "referral_instance_id": row.referral_instance_id, "referral_id": referral.id,
                "referral_no": referral.referral_no}


def pending_referrals(limit: int = 100) -> list[ReferralRequest]:
    """Requests no referral process has taken yet (for the referral capability to pick up)."""
    return list(session().scalars(select(ReferralRequest).where(ReferralRequest.status == "pending")
                                  .order_by(ReferralRequest.created_at).limit(limit)))


def mark_referral_picked_up(referral_request_id: int, *, referral_instance_id: int) -> None:
    """The referral capability took a pending request (call in the transaction that starts its instance)."""
    with unit_of_work() as s:
        row = s.get(ReferralRequest, referral_request_id)
        if row is not None and row.status == "pending":
            row.status, row.referral_instance_id, row.picked_up_at = "started", referral_instance_id, clock.now()
