"""The 下沉专家 rota: a county administrator (医务科) schedules an expert of the consult registry at a township for a
half-day visit (with joint-clinic capacity) or an on-call day. Refused, with nothing stored: an expert not in the
registry or on leave that day (the registry's leave data), a day already past, an organisation that is not a
township, and an expert already booked elsewhere in the same half-day (an on-call day overlaps nothing: on call is
by phone)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.auth.principal import Principal
from app.consult import experts
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.org.queries import find_org

from .labels import EDITORS, HALF_DAYS, KINDS, MAX_CAPACITY, SESSION_HOURS
from .models import LiaisonDuty


def require_editor(p: Principal) -> None:
    if not p.has_role(*EDITORS):
        raise Forbidden("仅县医共体管理员（医务科）可维护下沉专家排班", code="not_rota_editor")


def session_window(duty: LiaisonDuty) -> tuple[datetime, datetime]:
    """Start and end of the duty as aware datetimes (on call: 08:00 to 08:00 the next day)."""
    start_t, end_t = SESSION_HOURS[duty.half_day]
    start = clock.start_of_day(duty.on_date).replace(hour=start_t.hour, minute=start_t.minute)
    end = clock.start_of_day(duty.on_date).replace(hour=end_t.hour, minute=end_t.minute)
    if end <= start:
        end = clock.start_of_day(date.fromordinal(duty.on_date.toordinal() + 1)).replace(hour=end_t.hour)
    return start, end


def registry_entry(expert_user_id: int, specialty: str | None = None) -> dict[str, Any]:
    rows = [r for r in experts.listing() if r["user_id"] == expert_user_id
            and (specialty is None or r["specialty"] == specialty)]
    if not rows:
        raise Invalid("该医生不在会诊专家库中，请先在专家库登记", code="expert_not_registered",
                      field="expert_user_id", expert_user_id=expert_user_id)
    return rows[0]


def leave_on(expert_user_id: int, day: date) -> dict[str, Any] | None:
    """The registry row that makes the expert unavailable on `day` (leave range or marked unavailable), if any."""
    for r in experts.listing():
        if r["user_id"] != expert_user_id:
            continue
        if not r["available"] or (r["leave_from"] and r["leave_to"] and r["leave_from"] <= day <= r["leave_to"]):
            return r
    return None


def _clashes(expert_user_id: int, day: date, half_day: str, kind: str, *, exclude: int | None = None) -> list[LiaisonDuty]:
    halves = ("am", "pm") if half_day == "day" else (half_day,)
    stmt = select(LiaisonDuty).where(LiaisonDuty.expert_user_id == expert_user_id, LiaisonDuty.on_date == day,
                                     LiaisonDuty.status != "cancelled", LiaisonDuty.kind == kind)
    rows = [d for d in session().scalars(stmt) if d.id != exclude]
    if kind == "on_call":
        return rows
    return [d for d in rows if d.half_day in halves]


def schedule(p: Principal, *, kind: str, expert_user_id: int, township_code: str, on_date: date,
             half_day: str, capacity: int = 0, specialty: str | None = None, note: str = "") -> LiaisonDuty:
    """Put an expert on the rota of a township (validated as the module says)."""
    require_editor(p)
    if kind not in KINDS:
        raise Invalid("排班类型不正确", code="invalid_kind", field="kind", allowed=list(KINDS))
    if kind == "on_call":
        half_day, capacity = "day", 0
    elif half_day not in ("am", "pm"):
        raise Invalid("坐诊须选上午或下午", code="invalid_half_day", field="half_day", allowed=["am", "pm"])
    if not 0 <= capacity <= MAX_CAPACITY:
        raise Invalid(f"号源数须在 0–{MAX_CAPACITY} 之间", code="invalid_capacity", field="capacity")
    if on_date < clock.today():
        raise Invalid("不能为已过去的日期排班", code="date_in_past", field="on_date")
    township = find_org(township_code)
    if township is None or township.level != "township":
        raise NotFound("乡镇卫生院不存在", code="township_not_found", township_code=township_code)
    entry = registry_entry(expert_user_id, specialty)
    leave = leave_on(expert_user_id, on_date)
    if leave is not None:
        raise Conflict(f"{entry['name']} 当日休假或停诊，不能排班", code="expert_on_leave", status=409,
                       leave_from=leave["leave_from"], leave_to=leave["leave_to"])
    clash = _clashes(expert_user_id, on_date, half_day, kind)
    if clash:
        other = find_org(clash[0].township_code)
        raise Conflict(f"{entry['name']} 在{on_date:%m月%d日}{HALF_DAYS[clash[0].half_day]}已排在"
                       f"{other.name if other else clash[0].township_code}", code="expert_double_booked",
                       status=409, duty_id=clash[0].id, township_code=clash[0].township_code)
    with unit_of_work() as s:
        now = clock.now()
        duty = LiaisonDuty(kind=kind, expert_user_id=expert_user_id, expert_name=entry["name"] or "专家",
                           expert_org_code=entry["org_code"], specialty=entry["specialty"],
                           township_code=township.code, township_path=township.path, on_date=on_date,
                           half_day=half_day, capacity=capacity, status="scheduled", note=note.strip(),
                           created_by=p.username, created_at=now, updated_at=now)
        s.add(duty)
        s.flush()
        return duty


def get(duty_id: int) -> LiaisonDuty:
    duty = session().get(LiaisonDuty, duty_id)
    if duty is None:
        raise NotFound("排班不存在", code="duty_not_found", duty_id=duty_id)
    return duty


def cancel(p: Principal, duty_id: int, *, reason: str) -> LiaisonDuty:
    """Cancel a duty that has not been delivered (its bookings stay listed; the township sees it cancelled)."""
    require_editor(p)
    if not reason.strip():
        raise Invalid("请填写取消原因", code="reason_required", field="reason")
    with unit_of_work():
        duty = get(duty_id)
        if duty.status != "scheduled":
            raise Conflict("该排班已到岗或已取消", code="duty_not_open", status=409, status_now=duty.status)
        duty.status, duty.cancel_reason, duty.updated_at = "cancelled", reason.strip(), clock.now()
        return duty


def confirm_delivered(p: Principal, duty_id: int) -> LiaisonDuty:
    """The expert (or the administrator) confirms the day was worked: counts as an expert day delivered."""
    with unit_of_work():
        duty = get(duty_id)
        if not (p.user_id == duty.expert_user_id or p.has_role(*EDITORS)):
            raise Forbidden("仅本人或医务科可确认到岗", code="not_duty_expert")
        if duty.status == "delivered":
            return duty
        if duty.status == "cancelled":
            raise Conflict("该排班已取消", code="duty_not_open", status=409, status_now=duty.status)
        if session_window(duty)[0] > clock.now():
            raise Conflict("排班尚未开始，不能确认到岗", code="duty_not_started", status=409)
        duty.status, duty.delivered_at, duty.delivered_by = "delivered", clock.now(), p.username
        duty.updated_at = clock.now()
        return duty
