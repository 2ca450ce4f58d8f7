"""What a resident sees of their own care, shaped for the portal.

Only the resident's own rows are read (every function takes the caller's resident id, never one from the URL).
Left out on purpose: clinician free text (plan notes, referral reasons and notes, visit remarks), raw risk grades
(a risk level appears only with its plain-language explanation), QC flags and who on the staff typed what.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from app.auth.models import User
from app.auth.services import phone_of
from app.care_plans.models import CarePlan
from app.care_plans.queries import plans_for_summary
from app.consult import labels as consult_labels
from app.consult.models import Consult
from app.core import clock
from app.core.db import session
from app.education import services as education
from app.education.models import EducationPush
from app.follow_up.models import FollowUpSchedule
from app.org.queries import find_org
from app.referral.models import Referral
from app.residents import sources
from app.residents.models import Resident
from app.residents.record_models import Medication, Observation
from app.vocabulary import Disease, drugs, loinc

from . import risk_text
from .models import PortalBooking

WINDOW_DAYS = 7                 # the follow-up window: due date ± 7 days (国家基本公卫规范: 每季度面对面随访)
READING_CODES = {"sbp": "8480-6", "dbp": "8462-4", "pulse": "8867-4", "fpg": "1558-6", "glucose": "2339-0"}
TARGET_LABELS = {"sbp": "收缩压", "dbp": "舒张压", "fpg": "空腹血糖", "hba1c": "糖化血红蛋白", "ldl": "低密度脂蛋白",
                 "bmi": "体重指数", "sbp_max": "收缩压", "dbp_max": "舒张压", "fpg_max": "空腹血糖",
                 "hba1c_max": "糖化血红蛋白"}
GUIDANCE = {
    "htn": ["每天食盐不超过 5 克，少吃腌制食品", "每周至少 5 天、每天 30 分钟中等强度运动", "戒烟限酒，保持体重",
            "按时服药，不要自行停药或减量；血压平稳也要坚持", "家中测血压：早晚各测一次，坐位休息 5 分钟后测"],
    "t2dm": ["主食定时定量，粗细搭配，少吃甜食和含糖饮料", "餐后适量活动，避免空腹运动", "按时用药，注意低血糖症状（心慌、出汗、手抖）",
             "每天检查双脚，有破损及时就医", "家中测血糖：空腹及餐后 2 小时"],
}
REFERRAL_STEPS = (("submitted", "已提交"), ("accepted", "已接收"), ("visited", "已就诊"), ("returned", "已回转"))


def _iso(value: Any) -> Any:
    """Dates stay objects: the response schemas serialize them."""
    return value


def _doctor(resident: Resident) -> dict[str, Any] | None:
    if resident.family_doctor_user_id is None:
        return None
    user = session().get(User, resident.family_doctor_user_id)
    if user is None:
        return None
    org = find_org(user.org_code)
    return {"name": user.display_name, "org_name": org.name if org else None,
            "phone": phone_of(user.id)}


def _targets(targets: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, value in (targets or {}).items():
        if isinstance(value, (int, float, str)) and key in TARGET_LABELS:
            out.append({"key": key, "label": TARGET_LABELS[key], "value": value})
    return out


def risks(resident_id: int) -> list[dict[str, Any]]:
    """Each disease's risk level as the resident reads it: a label and a plain-language explanation from
    `risk_text` (never a raw grade or score; a level without an explanation is left out)."""
    out = []
    for disease, level in session().execute(select(CarePlan.disease, CarePlan.risk_level).where(
            CarePlan.resident_id == resident_id, CarePlan.risk_level.is_not(None)).order_by(CarePlan.disease)):
        try:
            term = Disease.parse(disease)
        except ValueError:
            continue
        if term is None:
            continue
        code = str(term.value)
        shown = risk_text.explain(code, level)
        if shown is not None:
            out.append({"disease": code, "disease_name": Disease.label_of(code, code), **shown})
    return out


def plan(resident: Resident) -> dict[str, Any]:
    """Next follow-up window per disease, targets and drugs of the plan in force, the family doctor."""
    today = clock.today()
    schedules = list(session().scalars(select(FollowUpSchedule).where(
        FollowUpSchedule.resident_id == resident.id).order_by(FollowUpSchedule.next_due_on)))
    plans = {p["disease"]: p for p in plans_for_summary(resident.id)}
    booking = session().scalars(select(PortalBooking).where(
        PortalBooking.resident_id == resident.id, PortalBooking.status == "requested",
        PortalBooking.slot_on >= today).order_by(PortalBooking.id.desc())).first()
    diseases = sorted(set(plans) | {s.disease for s in schedules})
    items = []
    for disease in diseases:
        sched = next((s for s in schedules if s.disease == disease), None)
        p = plans.get(disease) or {}
        due: date | None = sched.next_due_on if sched else None
        items.append({
            "disease": disease, "disease_name": Disease.label_of(disease, disease),
            "next_due_on": _iso(due),
            "window_from": _iso(due - timedelta(days=WINDOW_DAYS)) if due else None,
            "window_to": _iso(due + timedelta(days=WINDOW_DAYS)) if due else None,
            "overdue": bool(due and due < today - timedelta(days=WINDOW_DAYS)),
            "interval_days": (sched.interval_days if sched else None) or p.get("follow_up_interval_days"),
            "targets": _targets(p.get("targets") or {}),
            "drugs": [{"drug": d.get("drug"), "name": d.get("drug_name") or d.get("name") or d.get("drug"),
                       "dose": d.get("dose"), "frequency": d.get("frequency")}
                      for d in (p.get("drugs") or []) if isinstance(d, dict)],
            "guidance": GUIDANCE.get(disease, []),
        })
    return {"resident_name": resident.name, "doctor": _doctor(resident), "plans": items, "risks": risks(resident.id),
            "booking": {"id": booking.id, "slot_on": _iso(booking.slot_on), "half_day": booking.half_day,
                        "status": booking.status} if booking else None}


def _origin(source: str | None) -> tuple[str, str]:
    if source == sources.PATIENT:
        return "self", "自测"
    if (source or "").startswith(sources.HOME_PREFIXES):
        return "device", "设备"
    return "clinic", "诊室"


def readings(resident_id: int, *, days: int = 180, limit: int = 400) -> dict[str, Any]:
    """BP, pulse and glucose values of the last `days`, oldest first, each labelled clinic / self / device."""
    since = clock.now() - timedelta(days=days)
    codes = {v: k for k, v in READING_CODES.items()}
    rows = list(session().scalars(select(Observation).where(
        Observation.resident_id == resident_id, Observation.code.in_(tuple(codes)),
        Observation.effective_at >= since).order_by(Observation.effective_at.desc(), Observation.id.desc())
        .limit(limit)))
    rows.reverse()
    items = []
    for o in rows:
        origin, label = _origin(o.source)
        items.append({"id": o.id, "kind": codes[o.code], "name": loinc.SUPPORTED[o.code].name,
                      "value": o.value_num, "unit": o.unit, "at": _iso(o.effective_at),
                      "origin": origin, "origin_label": label})
    return {"items": items, "days": days}


def medications(resident_id: int) -> list[dict[str, Any]]:
    rows = session().scalars(select(Medication).where(Medication.resident_id == resident_id,
                                                      Medication.status == "active").order_by(Medication.id))
    out = []
    for m in rows:
        entry = drugs.find(m.drug)
        out.append({"id": m.id, "drug": m.drug, "name": entry["name_zh"] if entry else m.drug, "dose": m.dose,
                    "frequency": m.frequency, "started_on": _iso(m.started_on)})
    return out


def education_items(resident_id: int) -> list[dict[str, Any]]:
    return [{"id": p["id"], "title": p["title"], "summary": p["summary"], "topic": p["topic"],
             "pushed_at": _iso(p["pushed_at"]), "read_at": _iso(p["read_at"])}
            for p in reversed(education.pushes_for(resident_id))]


def education_push(resident_id: int, push_id: int) -> EducationPush | None:
    row = session().get(EducationPush, push_id) if 0 < push_id < 2**63 else None
    return row if row is not None and row.resident_id == resident_id else None


def referral_step(r: Referral) -> str | None:
    if r.status in ("cancelled", "rejected", "withdrawn"):
        return None
    if r.result_at is not None or r.status in ("received", "closed", "returned") and r.direction == "down":
        return "returned"
    if r.arrived_at is not None:
        return "visited"
    if r.accepted_at is not None:
        return "accepted"
    return "submitted"


def referrals(resident_id: int) -> list[dict[str, Any]]:
    """Referral status only: step, hospital, times. No reason, no clinician notes, no result text."""
    out = []
    for r in session().scalars(select(Referral).where(Referral.resident_id == resident_id)
                               .order_by(Referral.requested_at.desc())):
        step = referral_step(r)
        org = find_org(r.to_org_code) if r.to_org_code else None
        out.append({"id": r.id, "referral_no": r.referral_no, "direction": r.direction,
                    "direction_label": "上转" if r.direction == "up" else "下转",
                    "step": step or "closed",
                    "step_label": dict(REFERRAL_STEPS).get(step or "", "未成行"),
                    "hospital": r.external_hospital or (org.name if org else None),
                    "requested_at": _iso(r.requested_at), "accepted_at": _iso(r.accepted_at),
                    "appointment_at": _iso(r.appointment_at), "arrived_at": _iso(r.arrived_at),
                    "returned_at": _iso(r.result_at)})
    return out



CONSULT_STEPS = {"submitted": "已申请", "accepted": "已受理", "held": "已会诊", "reported": "已出报告"}


def consult_step(c: Any) -> str | None:
    """The four steps a resident sees of a remote consultation (None: declined, refused or cancelled)."""
    if c.status in ("declined", "refused", "cancelled"):
        return None
    if c.report_signed_at is not None or c.status in ("reported", "adopted", "closed"):
        return "reported"
    if c.started_at is not None:
        return "held"
    if c.accepted_at is not None or c.status in ("accepted", "scheduled"):
        return "accepted"
    return "submitted"


def consults(resident_id: int) -> list[dict[str, Any]]:
    """Remote consultations: status only (step, specialty, hospital, times). No reason, summary, report or opinion."""
    out = []
    for c in session().scalars(select(Consult).where(Consult.resident_id == resident_id)
                               .order_by(Consult.id.desc())):
        step = consult_step(c)
        org = find_org(c.invited_org_code)
        out.append({"id": c.id, "consult_no": c.consult_no, "step": step or "closed",
                    "step_label": CONSULT_STEPS.get(step or "", "未成行"),
                    "specialty": consult_labels.SPECIALTIES.get(c.specialty, "专科"),
                    "hospital": org.name if org else None, "mode_label": consult_labels.MODES.get(c.mode, ""),
                    "requested_at": c.invited_at, "scheduled_at": c.scheduled_at,
                    "reported_at": c.report_signed_at})
    return out
