"""Read side of expert liaison: the rota (admin), a township's week (who its expert is, on call now, slots left),
bookings, plans with milestones, and the rows the quality dashboards count (`duty_rows`, `slot_rows`,
`milestone_rows`)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from app.auth.principal import Principal
from app.consult.labels import SPECIALTIES
from app.core import clock
from app.core.db import session
from app.core.errors import NotFound
from app.org.queries import find_org, orgs_in_scope, township_of

from . import duties, plans
from .bookings import visible
from .labels import (
    BOOKING_KINDS,
    BOOKING_STATUSES,
    DUTY_STATUSES,
    HALF_DAYS,
    KINDS,
    MILESTONE_STATUSES,
    PLAN_STATUSES,
)
from .models import LiaisonBooking, LiaisonDuty, SpecialtyMilestone, SpecialtyPlan


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _names(codes) -> dict[str, str]:
    out = {}
    for c in set(codes):
        org = find_org(c)
        out[c] = org.name if org else c
    return out


def _booked(duty_ids: list[int]) -> dict[int, int]:
    if not duty_ids:
        return {}
    rows = session().execute(select(LiaisonBooking.duty_id, func.count()).where(
        LiaisonBooking.duty_id.in_(duty_ids), LiaisonBooking.status != "cancelled").group_by(LiaisonBooking.duty_id))
    return {int(d): int(n) for d, n in rows}


def duty_item(d: LiaisonDuty, names: dict[str, str], booked: dict[int, int]) -> dict[str, Any]:
    start, end = duties.session_window(d)
    used = booked.get(d.id, 0)
    now = clock.now()
    return {"id": d.id, "kind": d.kind, "kind_label": KINDS[d.kind], "expert_user_id": d.expert_user_id,
            "expert_name": d.expert_name, "specialty": d.specialty,
            "specialty_label": SPECIALTIES.get(d.specialty, d.specialty), "township_code": d.township_code,
            "township_name": names.get(d.township_code, d.township_code), "on_date": d.on_date,
            "half_day": d.half_day, "half_day_label": HALF_DAYS[d.half_day], "starts_at": start, "ends_at": end,
            "capacity": d.capacity, "booked": used, "remaining": max(d.capacity - used, 0), "status": d.status,
            "status_label": DUTY_STATUSES[d.status], "note": d.note, "cancel_reason": d.cancel_reason,
            "bookable": d.kind == "visit" and d.status != "cancelled" and d.capacity > used and end > now,
            "on_call_now": d.kind == "on_call" and d.status != "cancelled" and start <= now < end}


def duty_out(d: LiaisonDuty) -> dict[str, Any]:
    return duty_item(d, _names([d.township_code]), _booked([d.id]))


def rota(p: Principal, *, start: date, end: date, township_code: str | None = None,
         expert_user_id: int | None = None) -> list[dict[str, Any]]:
    """Duties between two dates (both included) of the townships the caller sees."""
    stmt = select(LiaisonDuty).where(LiaisonDuty.on_date >= start, LiaisonDuty.on_date <= end)
    if township_code:
        stmt = stmt.where(LiaisonDuty.township_code == township_code)
    if expert_user_id:
        stmt = stmt.where(LiaisonDuty.expert_user_id == expert_user_id)
    rows = [d for d in session().scalars(stmt.order_by(LiaisonDuty.on_date, LiaisonDuty.half_day, LiaisonDuty.id))
            if visible(p, d.township_path)]
    names, booked = _names(d.township_code for d in rows), _booked([d.id for d in rows])
    return [duty_item(d, names, booked) for d in rows]


def my_township(p: Principal, township_code: str | None = None):
    """The township whose week the caller looks at: theirs (village → its township), or the one a county user picks."""
    code = township_code
    if code is None:
        org = township_of(p.org_code) if p.org_code else None
        if org is None:
            raise NotFound("请选择乡镇卫生院", code="township_required")
        code = org.code
    org = find_org(code)
    if org is None or org.level != "township" or not visible(p, org.path):
        raise NotFound("乡镇卫生院不存在", code="township_not_found", township_code=code)
    return org


def week(p: Principal, *, township_code: str | None = None, week_start: date | None = None) -> dict[str, Any]:
    """This week at a township: the experts scheduled (visits and on call), who is on call now, the slots left."""
    org = my_township(p, township_code)
    start = week_of(week_start or clock.today())
    items = rota(p, start=start - timedelta(days=1), end=start + timedelta(days=6), township_code=org.code)
    days = [i for i in items if i["on_date"] >= start]
    on_call = [i for i in items if i["on_call_now"]]
    experts: dict[int, dict[str, Any]] = {}
    for i in days:
        if i["status"] != "cancelled":
            e = experts.setdefault(i["expert_user_id"], {"user_id": i["expert_user_id"], "name": i["expert_name"],
                                                         "specialty_label": i["specialty_label"], "duties": 0})
            e["duties"] += 1
    return {"township_code": org.code, "township_name": org.name, "week_start": start,
            "week_end": start + timedelta(days=6), "experts": list(experts.values()), "on_call_now": on_call,
            "duties": days, "can_book": p.has_role("township_doctor", "township_public_health", "village_doctor")}


def townships(p: Principal) -> list[dict[str, Any]]:
    return [{"code": o.code, "name": o.name} for o in orgs_in_scope(p, level="township")]


def booking_item(b: LiaisonBooking, duty: LiaisonDuty | None) -> dict[str, Any]:
    return {"id": b.id, "duty_id": b.duty_id, "kind": b.kind, "kind_label": BOOKING_KINDS[b.kind],
            "status": b.status, "status_label": BOOKING_STATUSES[b.status], "resident_id": b.resident_id,
            "resident_name": b.resident_name, "reason": b.reason, "consult_id": b.consult_id,
            "booked_by_name": b.booked_by_name, "booked_at": b.booked_at,
            "on_date": duty.on_date if duty else None, "half_day_label": HALF_DAYS[duty.half_day] if duty else None,
            "expert_name": duty.expert_name if duty else None}


def bookings(p: Principal, *, duty_id: int | None = None, start: date | None = None,
             end: date | None = None) -> list[dict[str, Any]]:
    """Bookings the caller may see: their own organisation's (county-wide roles: all), newest first."""
    stmt = select(LiaisonBooking, LiaisonDuty).join(LiaisonDuty, LiaisonDuty.id == LiaisonBooking.duty_id)
    if duty_id:
        stmt = stmt.where(LiaisonBooking.duty_id == duty_id)
    if start:
        stmt = stmt.where(LiaisonDuty.on_date >= start)
    if end:
        stmt = stmt.where(LiaisonDuty.on_date <= end)
    out = []
    for b, d in session().execute(stmt.order_by(LiaisonDuty.on_date.desc(), LiaisonBooking.id.desc()).limit(500)):
        if p.county_wide or (p.org_path and b.org_path.startswith(p.org_path)):
            out.append(booking_item(b, d))
    return out


def milestone_item(m: SpecialtyMilestone) -> dict[str, Any]:
    late = m.status == "pending" and m.due_on < clock.today()
    return {"id": m.id, "seq": m.seq, "title": m.title, "due_on": m.due_on, "indicators": m.indicators,
            "status": m.status, "status_label": "逾期未评估" if late else MILESTONE_STATUSES[m.status],
            "review": m.review, "reviewed_at": m.reviewed_at, "overdue": late}


def plan_item(plan: SpecialtyPlan, names: dict[str, str] | None = None) -> dict[str, Any]:
    names = names or _names([plan.township_code])
    stones = plans.milestones_of(plan.id)
    return {"id": plan.id, "title": plan.title, "township_code": plan.township_code,
            "township_name": names.get(plan.township_code, plan.township_code), "specialty": plan.specialty,
            "specialty_label": SPECIALTIES.get(plan.specialty, plan.specialty),
            "lead_expert_name": plan.lead_expert_name, "goals": plan.goals, "activities": plan.activities,
            "starts_on": plan.starts_on, "ends_on": plan.ends_on, "status": plan.status,
            "status_label": PLAN_STATUSES[plan.status], "approval": plan.approval, "evaluation": plan.evaluation,
            "instance_id": plan.instance_id, "milestones": [milestone_item(m) for m in stones],
            "milestones_met": sum(1 for m in stones if m.status == "met")}


def plan_list(p: Principal) -> list[dict[str, Any]]:
    rows = [r for r in session().scalars(select(SpecialtyPlan).order_by(SpecialtyPlan.starts_on.desc(),
                                                                        SpecialtyPlan.id.desc()))
            if visible(p, r.township_path)]
    names = _names(r.township_code for r in rows)
    return [plan_item(r, names) for r in rows]


# -- rows the quality dashboards count (app.quality.sources) ------------------------------------------------------

def duty_rows(start: date, end: date, org_prefix: str) -> list[dict[str, Any]]:
    """One row per visit scheduled at a township under `org_prefix` between the dates and already due (not
    cancelled): whether the expert day was delivered."""
    today = clock.today()
    stmt = select(LiaisonDuty).where(LiaisonDuty.kind == "visit", LiaisonDuty.status != "cancelled",
                                     LiaisonDuty.on_date >= start, LiaisonDuty.on_date <= min(end, today),
                                     LiaisonDuty.township_path.startswith(org_prefix, autoescape=True))
    return [{"key": f"d{d.id}", "org_path": d.township_path, "org_code": d.township_code,
             "doctor_id": d.expert_user_id, "disease": None, "risk_level": None, "specialty": d.specialty,
             "delivered": d.status == "delivered", "on_date": d.on_date} for d in session().scalars(stmt)]


def slot_rows(start: date, end: date, org_prefix: str) -> list[dict[str, Any]]:
    """One row per slot offered on visits between the dates (capacity), `used` for each one booked."""
    stmt = select(LiaisonDuty).where(LiaisonDuty.kind == "visit", LiaisonDuty.status != "cancelled",
                                     LiaisonDuty.capacity > 0, LiaisonDuty.on_date >= start,
                                     LiaisonDuty.on_date <= end,
                                     LiaisonDuty.township_path.startswith(org_prefix, autoescape=True))
    rows_ = list(session().scalars(stmt))
    booked = _booked([d.id for d in rows_])
    return [{"key": f"d{d.id}s{k}", "org_path": d.township_path, "org_code": d.township_code,
             "doctor_id": d.expert_user_id, "disease": None, "risk_level": None, "specialty": d.specialty,
             "used": k < booked.get(d.id, 0)} for d in rows_ for k in range(d.capacity)]


def milestone_rows(start: date, end: date, org_prefix: str) -> list[dict[str, Any]]:
    """One row per milestone of an approved plan due between the dates: reviewed on time (within 7 days of the
    due date, as the review task's due time says) and met."""
    stmt = (select(SpecialtyMilestone, SpecialtyPlan).join(SpecialtyPlan, SpecialtyPlan.id == SpecialtyMilestone.plan_id)
            .where(SpecialtyMilestone.due_on >= start, SpecialtyMilestone.due_on <= min(end, clock.today()),
                   SpecialtyPlan.status.in_(("active", "evaluating", "closed")),
                   SpecialtyPlan.township_path.startswith(org_prefix, autoescape=True)))
    out = []
    for m, plan in session().execute(stmt):
        reviewed_on = clock.date_of(m.reviewed_at) if m.reviewed_at else None
        out.append({"key": f"m{m.id}", "org_path": plan.township_path, "org_code": plan.township_code,
                    "doctor_id": None, "disease": None, "risk_level": None, "specialty": plan.specialty,
                    "reviewed": reviewed_on is not None,
                    "on_time": reviewed_on is not None and reviewed_on <= m.due_on + timedelta(days=7),
                    "met": m.status == "met"})
    return out
