"""The township books a slot of its expert's visit for one resident: a joint clinic (联合门诊, seen together at the
township) or a remote consult, started as `remote_consult` through app.consult's public service with the expert
named and the slot as the expected time. Refused with a stable code: a duty outside the caller's township
(`duty_not_found`, like a missing one), cancelled (`duty_not_open`), an on-call day (`not_bookable`), a session
already over (`slot_in_past`), full (`slot_full`), or the resident already booked on it (`already_booked`)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.auth.principal import Principal
from app.consult import services as consults
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, Invalid, NotFound
from app.residents import queries as residents

from . import duties
from .labels import BOOKING_KINDS
from .models import LiaisonBooking, LiaisonDuty

BOOKERS = ("township_doctor", "township_public_health", "village_doctor")


def visible(p: Principal, township_path: str) -> bool:
    """County-wide roles see every township; a township or village sees its own township's experts."""
    return p.county_wide or bool(p.org_path) and (p.org_path.startswith(township_path)
                                                  or township_path.startswith(p.org_path))


def duty_for(p: Principal, duty_id: int) -> LiaisonDuty:
    duty = session().get(LiaisonDuty, duty_id)
    if duty is None or not visible(p, duty.township_path):
        raise NotFound("排班不存在", code="duty_not_found", duty_id=duty_id)
    return duty


def booked_count(duty_id: int) -> int:
    return session().scalar(select(func.count()).select_from(LiaisonBooking).where(
        LiaisonBooking.duty_id == duty_id, LiaisonBooking.status != "cancelled")) or 0


def _check_slot(p: Principal, duty: LiaisonDuty, resident_id: int) -> Any:
    if duty.status == "cancelled":
        raise Conflict("该次坐诊已取消", code="duty_not_open", status=409)
    if duty.kind != "visit" or duty.capacity <= 0:
        raise Conflict("该排班不开放预约（值班请电话联系）", code="not_bookable", status=409)
    if duties.session_window(duty)[1] <= clock.now():
        raise Invalid("该次坐诊已结束，不能预约", code="slot_in_past", field="duty_id")
    resident = residents.get_resident(resident_id, p)
    if resident is None:
        raise NotFound("居民不存在 (resident not found)", code="resident_not_found", resident_id=resident_id)
    taken = session().scalars(select(LiaisonBooking).where(
        LiaisonBooking.duty_id == duty.id, LiaisonBooking.resident_id == resident_id,
        LiaisonBooking.status != "cancelled")).first()
    if taken is not None:
        raise Conflict(f"{resident.name} 已预约该次坐诊", code="already_booked", status=409, booking_id=taken.id)
    if booked_count(duty.id) >= duty.capacity:
        raise Conflict("该次坐诊号源已满，请选择其他时间", code="slot_full", status=409, capacity=duty.capacity)
    return resident


def _lock(duty_id: int) -> LiaisonDuty | None:
    """The duty row locked for the booking transaction (PostgreSQL), so two last-slot bookings cannot both pass."""
    return session().scalars(select(LiaisonDuty).where(LiaisonDuty.id == duty_id).with_for_update()).first()


def book(p: Principal, duty_id: int, *, kind: str, resident_id: int, reason: str,
         consult: dict[str, Any] | None = None) -> LiaisonBooking:
    """Take one slot (joint clinic or consult) of a visit for a resident of the caller's scope."""
    if kind not in BOOKING_KINDS:
        raise Invalid("预约类型不正确", code="invalid_booking_kind", field="kind", allowed=list(BOOKING_KINDS))
    if not reason.strip():
        raise Invalid("请填写预约事由", code="reason_required", field="reason")
    duty = duty_for(p, duty_id)
    with unit_of_work() as s:
        _lock(duty.id)
        resident = _check_slot(p, duty, resident_id)
        consult_id = None
        if kind == "consult":
            details = consult or {}
            started = consults.request_consult(
                p, resident_id=resident_id, invited_org_code=duty.expert_org_code, consult_type="single",
                mode="realtime", urgency="scheduled", specialty=duty.specialty, reason=reason,
                purpose=(details.get("purpose") or "").strip() or reason, summary=details.get("summary") or {},
                named_expert_id=duty.expert_user_id, expected_at=duties.session_window(duty)[0])
            consult_id = started.id
        row = LiaisonBooking(duty_id=duty.id, kind=kind, status="booked", resident_id=resident_id,
                             resident_name=resident.name, org_code=p.org_code, org_path=p.org_path or duty.township_path,
                             reason=reason.strip(), consult_id=consult_id, booked_by=p.user_id,
                             booked_by_name=p.display_name or p.username, booked_at=clock.now())
        s.add(row)
        s.flush()
        return row


def cancel(p: Principal, booking_id: int) -> LiaisonBooking:
    """Give a slot back (a started consult goes on in its own process; cancel it there)."""
    with unit_of_work():
        row = session().get(LiaisonBooking, booking_id)
        if row is None or not (p.county_wide or row.org_path.startswith(p.org_path or "\0")
                               or p.user_id == row.booked_by):
            raise NotFound("预约不存在", code="booking_not_found", booking_id=booking_id)
        if row.status != "booked":
            raise Conflict("该预约已就诊或已取消", code="booking_not_open", status=409)
        row.status, row.cancelled_at = "cancelled", clock.now()
        return row
