"""Attendance: the venue QR code, sign-in and sign-out checked against token, time window and geofence, manual
sign-in by the trainer, online presence, and at the close the share of the session each trainee was present for.

A refused attempt is recorded with its reason and answered with a stable code; the trainee may then ask the trainer
for a manual sign-in. Two sign-ins from one account give one record (the second returns the first).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.principal import Principal
from app.auth.queries import users_by_id, users_by_username
from app.core import clock
from app.core.db import session, unit_of_work
from app.notifications.services import notify

from . import access, geo, qr
from .errors import SessionLocked, SessionNotFound, SignInRefused
from .models import (
    Attendance,
    PresenceInterval,
    SignInAttempt,
    TrainingSession,
)
from .services import enrolment_of, enrolments_of, get_session, managed_session
from .settings import settings

REASONS = {
    "sign_in_token_invalid": "二维码无效（不是本次培训的签到码）",
    "sign_in_token_expired": "二维码已过期，请扫描屏幕上最新的二维码",
    "sign_in_not_open": "签到尚未开始或已结束",
    "location_required": "需要获取您的位置才能签到，请允许浏览器使用定位",
    "location_inaccurate": "定位精度不足，请到室外或开启 GPS 后重试",
    "outside_geofence": "您不在培训场地范围内",
    "device_already_used": "该手机已为其他账号签到，每人须用本人手机签到",
    "not_signed_in": "您还没有签到，不能签退",
    "sign_out_not_open": "培训结束前30分钟起才能签退",
    "not_on_roster": "您不在本次培训名单中",
    "not_online_session": "本次培训不是线上培训",
}
PRESENCE_GAP = timedelta(minutes=3)      # heartbeats further apart than this start a new interval


@dataclass(frozen=True)
class Position:
    lat: float | None
    lon: float | None
    accuracy_m: float | None


def _secret() -> str:
    return current_app.config["YGT"].secret_key


def window(row: TrainingSession) -> tuple[datetime, datetime]:
    """When sign-in/sign-out are accepted: from N minutes before the start to the sign-out grace after the end."""
    cfg = settings()
    return (row.starts_at - timedelta(minutes=cfg.sign_in_opens_min),
            row.ends_at + timedelta(minutes=cfg.sign_out_grace_min))


# -- the venue screen ------------------------------------------------------------------------------------------

def current_code(p: Principal, session_id: int, *, base_url: str) -> dict[str, Any]:
    """The QR code to show on the venue screen now (managers and the lecturer only)."""
    row = session().get(TrainingSession, session_id)
    if row is None or not (access.manages(p, row.org_path) or row.lecturer_user_id == p.user_id):
        raise SessionNotFound("培训不存在 (training session not found)")
    if row.phase != "sign_in_open":
        raise SessionLocked("签到未开放 (sign-in is not open)", phase=row.phase)
    cfg = settings()
    token, rotates_at = qr.make_token(_secret(), row.id, clock.now(), cfg.qr_period_s)
    url = f"{base_url.rstrip('/')}/training/sign-in/{row.id}?t={token}"
    counts = attendance_counts(row.id)
    return {"session_id": row.id, "token": token, "url": url, "svg": qr.svg(url),
            "rotates_at": datetime.fromtimestamp(rotates_at, tz=clock.now().tzinfo), "period_s": cfg.qr_period_s,
            **counts}


def attendance_counts(session_id: int) -> dict[str, int]:
    rows = list(session().scalars(select(Attendance).where(Attendance.session_id == session_id)))
    return {"signed_in": len(rows), "signed_out": sum(1 for a in rows if a.signed_out_at),
            "expected": sum(1 for e in enrolments_of(session_id) if e.response != "declined")}


# -- sign-in / sign-out by QR ----------------------------------------------------------------------------------

def _refuse(row: TrainingSession, p: Principal, action: str, code: str, pos: Position, *, distance=None,
            device_id=None, **details: Any) -> SignInRefused:
    """Record the refused attempt (own transaction, so it survives the refusal) and build the error."""
    with unit_of_work() as s:
        attempt = SignInAttempt(session_id=row.id, user_id=p.user_id, action=action, at=clock.now(), code=code,
                                lat=pos.lat, lon=pos.lon, accuracy_m=pos.accuracy_m, distance_m=distance,
                                device_id=device_id)
        s.add(attempt)
        s.flush()
        attempt_id = attempt.id
    return SignInRefused(REASONS[code], code=code, attempt_id=attempt_id, can_request_manual=True, **details)


def _check_place(row: TrainingSession, p: Principal, action: str, pos: Position, device_id: str | None
                 ) -> float | None:
    if row.mode != "offline":
        return None
    cfg = settings()
    if pos.lat is None or pos.lon is None:
        raise _refuse(row, p, action, "location_required", pos, device_id=device_id)
    distance = round(geo.distance_m(pos.lat, pos.lon, row.venue_lat, row.venue_lon), 1)
    if pos.accuracy_m is None or pos.accuracy_m > cfg.max_accuracy_m:
        raise _refuse(row, p, action, "location_inaccurate", pos, distance=distance, device_id=device_id,
                      accuracy_m=pos.accuracy_m, max_accuracy_m=cfg.max_accuracy_m)
    radius = row.geofence_m or cfg.geofence_radius_m
    if distance > radius:
        raise _refuse(row, p, action, "outside_geofence", pos, distance=distance, device_id=device_id,
                      distance_m=distance, radius_m=radius)
    return distance


def scan(p: Principal, session_id: int, *, token: str, position: Position, device_id: str | None,
         action: str | None = None) -> dict[str, Any]:
    """Sign in (or out) with the venue QR token and the phone's position; returns the attendance record."""
    row = get_session(p, session_id)
    enrolment = enrolment_of(row.id, p.user_id)
    cfg = settings()
    now = clock.now()
    if enrolment is None:
        raise _refuse(row, p, action or "in", "not_on_roster", position, device_id=device_id)
    check = qr.check_token(_secret(), row.id, token, now, period_s=cfg.qr_period_s, grace_s=cfg.qr_grace_s)
    existing = _attendance(row.id, p.user_id)
    sign_out_from = row.ends_at - timedelta(minutes=cfg.sign_out_opens_min)
    action = action or ("out" if existing is not None and now >= sign_out_from else "in")
    if not check.ok:
        raise _refuse(row, p, action, check.code, position, device_id=device_id)
    opens, closes = window(row)
    if row.phase != "sign_in_open" or not opens <= now <= closes:
        raise _refuse(row, p, action, "sign_in_not_open", position, device_id=device_id)
    distance = _check_place(row, p, action, position, device_id)
    if action == "out" and now < sign_out_from:
        raise _refuse(row, p, action, "sign_out_not_open", position, device_id=device_id)
    if action == "out":
        return _sign_out(row, p, existing, position, method="qr")
    if existing is not None:
        return record_view(existing, row)
    if device_id and _device_used_by_other(row.id, device_id, p.user_id):
        raise _refuse(row, p, action, "device_already_used", position, device_id=device_id)
    return _sign_in(row, p.user_id, method="qr", position=position, distance=distance, device_id=device_id)


def _attendance(session_id: int, user_id: int, *, lock: bool = False) -> Attendance | None:
    stmt = select(Attendance).where(Attendance.session_id == session_id, Attendance.user_id == user_id)
    return session().scalars(stmt.with_for_update() if lock else stmt).first()


def _device_used_by_other(session_id: int, device_id: str, user_id: int) -> bool:
    return session().scalar(select(Attendance.id).where(Attendance.session_id == session_id,
                                                        Attendance.device_id == device_id,
                                                        Attendance.user_id != user_id).limit(1)) is not None


def _late_minutes(row: TrainingSession, at: datetime) -> int:
    late = (at - row.starts_at).total_seconds() / 60
    return int(late) if late > settings().late_after_min else 0


def _sign_in(row: TrainingSession, user_id: int, *, method: str, position: Position | None = None,
             distance: float | None = None, device_id: str | None = None, manual_by: str | None = None,
             reason: str | None = None, at: datetime | None = None) -> dict[str, Any]:
    """Insert the one attendance row; a concurrent second sign-in hits the unique key and returns the first."""
    at = at or clock.now()
    pos = position or Position(None, None, None)
    with unit_of_work() as s:
        record = Attendance(session_id=row.id, user_id=user_id, signed_in_at=at, sign_in_method=method,
                            sign_in_lat=pos.lat, sign_in_lon=pos.lon, sign_in_accuracy_m=pos.accuracy_m,
                            sign_in_distance_m=distance, device_id=device_id, late_minutes=_late_minutes(row, at),
                            manual_by=manual_by, manual_reason=reason)
        try:
            with s.begin_nested():
                s.add(record)
                s.flush()
        except IntegrityError:
            return record_view(_attendance(row.id, user_id), row)
        return record_view(record, row)


def _sign_out(row: TrainingSession, p: Principal, record: Attendance | None, pos: Position, *, method: str,
              manual_by: str | None = None) -> dict[str, Any]:
    if record is None:
        raise _refuse(row, p, "out", "not_signed_in", pos)
    with unit_of_work():
        record = _attendance(row.id, record.user_id, lock=True)
        if record.signed_out_at is None:
            record.signed_out_at, record.sign_out_method = clock.now(), method
            record.sign_out_lat, record.sign_out_lon, record.sign_out_accuracy_m = pos.lat, pos.lon, pos.accuracy_m
            if manual_by:
                record.manual_by = manual_by
        return record_view(record, row)


def record_view(record: Attendance, row: TrainingSession) -> dict[str, Any]:
    return {"session_id": row.id, "user_id": record.user_id, "signed_in_at": record.signed_in_at,
            "sign_in_method": record.sign_in_method, "late": record.late_minutes > 0,
            "late_minutes": record.late_minutes, "distance_m": record.sign_in_distance_m,
            "accuracy_m": record.sign_in_accuracy_m, "signed_out_at": record.signed_out_at,
            "sign_out_method": record.sign_out_method, "attended_hours": record.attended_hours,
            "presence_share": record.presence_share, "manual_by": record.manual_by}


# -- help and manual sign-in -----------------------------------------------------------------------------------

def request_help(p: Principal, session_id: int, attempt_id: int, *, note: str = "") -> dict[str, Any]:
    """After a refusal the trainee asks the trainer for a manual sign-in; the trainer is told in the inbox."""
    with unit_of_work() as s:
        row = get_session(p, session_id)
        attempt = s.get(SignInAttempt, attempt_id)
        if attempt is None or attempt.session_id != row.id or attempt.user_id != p.user_id:
            raise SessionNotFound("签到记录不存在 (attempt not found)")
        attempt.help_requested_at, attempt.help_note = clock.now(), note[:500]
        for user_id in _managers_to_tell(row):
            notify(user_id, kind="training_help", title=f"人工签到申请：{row.topic}",
                   body=f"{p.display_name or p.username}：{REASONS.get(attempt.code, attempt.code)}；{note}"[:500],
                   link=f"/training/sessions/{row.id}", dedupe_key=f"training:help:{attempt.id}:{user_id}")
        return {"attempt_id": attempt.id, "help_requested_at": attempt.help_requested_at}


def _managers_to_tell(row: TrainingSession) -> list[int]:
    names = {row.created_by}
    return [u.id for u in users_by_username(names).values()] + \
        ([row.lecturer_user_id] if row.lecturer_user_id else [])


def manual(p: Principal, session_id: int, *, user_id: int, action: str, reason: str,
           attempt_id: int | None = None) -> dict[str, Any]:
    """The trainer signs a trainee in or out by hand; recorded as manual, with who and why."""
    with unit_of_work() as s:
        row = managed_session(p, session_id)
        if row.phase not in ("sign_in_open", "attendance_closed") or row.completed_at is not None:
            raise SessionLocked("当前不能补签 (attendance is not open for changes)", phase=row.phase)
        if enrolment_of(row.id, user_id) is None:
            raise SessionNotFound("该学员不在本次培训名单中 (not on the roster)", user_id=user_id)
        if attempt_id:
            attempt = s.get(SignInAttempt, attempt_id)
            if attempt is not None and attempt.session_id == row.id:
                attempt.resolved_at, attempt.resolved_by = clock.now(), p.username
        record = _attendance(row.id, user_id)
        if action == "out":
            if record is None:
                raise SessionLocked("该学员尚未签到", code="not_signed_in")
            return _sign_out(row, p, record, Position(None, None, None), method="manual", manual_by=p.username)
        if record is not None:
            return record_view(record, row)
        return _sign_in(row, user_id, method="manual", manual_by=p.username, reason=reason[:500],
                        at=max(clock.now(), row.starts_at) if clock.now() < row.ends_at else row.starts_at)


def open_requests(session_id: int) -> list[SignInAttempt]:
    return list(session().scalars(select(SignInAttempt).where(
        SignInAttempt.session_id == session_id, SignInAttempt.help_requested_at.is_not(None),
        SignInAttempt.resolved_at.is_(None)).order_by(SignInAttempt.id)))


def refused_attempts(session_id: int) -> list[SignInAttempt]:
    return list(session().scalars(select(SignInAttempt).where(SignInAttempt.session_id == session_id)
                                  .order_by(SignInAttempt.id)))


# -- online sessions -------------------------------------------------------------------------------------------

def heartbeat(p: Principal, session_id: int, *, leaving: bool = False) -> dict[str, Any]:
    """An online trainee is in the live room: the first beat signs them in; beats extend their presence."""
    row = get_session(p, session_id)
    if row.mode == "offline":
        raise SignInRefused(REASONS["not_online_session"], code="not_online_session")
    if enrolment_of(row.id, p.user_id) is None:
        raise SignInRefused(REASONS["not_on_roster"], code="not_on_roster")
    now = clock.now()
    opens, closes = window(row)
    if row.phase != "sign_in_open" or not opens <= now <= closes:
        raise SignInRefused(REASONS["sign_in_not_open"], code="sign_in_not_open")
    with unit_of_work() as s:
        last = s.scalars(select(PresenceInterval).where(
            PresenceInterval.session_id == row.id, PresenceInterval.user_id == p.user_id)
            .order_by(PresenceInterval.joined_at.desc()).limit(1)).first()
        if last is None or last.left_at is not None or now - last.last_seen_at > PRESENCE_GAP:
            last = PresenceInterval(session_id=row.id, user_id=p.user_id, joined_at=now, last_seen_at=now)
            s.add(last)
        last.last_seen_at = now
        if leaving:
            last.left_at = now
    if _attendance(row.id, p.user_id) is None:
        _sign_in(row, p.user_id, method="online", at=now)
    return {"session_id": row.id, "share_so_far": round(presence_share(row, p.user_id, until=now), 3)}


def _intervals(session_id: int, user_id: int) -> list[tuple[datetime, datetime]]:
    rows = session().scalars(select(PresenceInterval).where(PresenceInterval.session_id == session_id,
                                                            PresenceInterval.user_id == user_id))
    return [(r.joined_at, r.left_at or r.last_seen_at) for r in rows]


def _covered(intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> float:
    """Seconds of [start, end] covered by the union of the intervals."""
    total, cursor = 0.0, start
    for a, b in sorted((max(a, start), min(b, end)) for a, b in intervals):
        if b <= cursor:
            continue
        total += (b - max(a, cursor)).total_seconds()
        cursor = b
    return total


def presence_share(row: TrainingSession, user_id: int, *, until: datetime | None = None) -> float:
    """Share of the session (start to `until`, default the planned end) the trainee was present for."""
    end = until or row.ends_at
    length = (end - row.starts_at).total_seconds()
    if length <= 0:
        return 0.0
    if row.mode != "offline":
        return min(1.0, _covered(_intervals(row.id, user_id), row.starts_at, end) / length)
    record = _attendance(row.id, user_id)
    if record is None or record.signed_out_at is None:
        return 0.0
    return min(1.0, _covered([(record.signed_in_at, record.signed_out_at)], row.starts_at, end) / length)


def attended_hours(row: TrainingSession, share: float) -> float:
    """Full declared 学时 at or above the minimum presence share; below it the present share, in half hours."""
    if share >= settings().min_presence_share:
        return float(row.hours)
    return int(row.hours * share * 2) / 2


def close(session_id: int) -> dict[str, Any]:
    """Close sign-in/sign-out: compute every trainee's presence share and attended 学时. A session the trainer
    ended early is measured to the moment it ended; a manual sign-in without sign-out is vouched for in full."""
    with unit_of_work() as s:
        row = s.get(TrainingSession, session_id)
        now = clock.now()
        actual_end = min(row.ends_at, max(now, row.starts_at + timedelta(minutes=1)))
        present = 0
        for record in s.scalars(select(Attendance).where(Attendance.session_id == row.id)):
            vouched = record.sign_in_method == "manual" and record.signed_out_at is None
            share = 1.0 if vouched else presence_share(row, record.user_id, until=actual_end)
            record.presence_share = round(share, 4)
            record.attended_hours = attended_hours(row, share)
            present += record.attended_hours > 0
        row.phase, row.attendance_closed_at, row.updated_at = "attendance_closed", now, now
        return {"present": present, "roster": len(enrolments_of(row.id)), "ended_at": actual_end.isoformat()}


def roster_view(session_id: int) -> list[dict[str, Any]]:
    """Everyone on the roster with answer and attendance (the trainer's sign-in sheet)."""
    enrolments = enrolments_of(session_id)
    records = {a.user_id: a for a in session().scalars(select(Attendance).where(Attendance.session_id == session_id))}
    users = users_by_id([e.user_id for e in enrolments])
    out = []
    for e in enrolments:
        a = records.get(e.user_id)
        user = users.get(e.user_id)
        out.append({"user_id": e.user_id, "name": user.display_name if user else "", "org_code": e.org_code,
                    "role": e.role, "response": e.response, "decline_reason": e.decline_reason,
                    "signed_in_at": a.signed_in_at if a else None, "sign_in_method": a.sign_in_method if a else None,
                    "late_minutes": a.late_minutes if a else 0, "signed_out_at": a.signed_out_at if a else None,
                    "distance_m": a.sign_in_distance_m if a else None,
                    "accuracy_m": a.sign_in_accuracy_m if a else None,
                    "manual_by": a.manual_by if a else None, "attended_hours": a.attended_hours if a else None,
                    "presence_share": a.presence_share if a else None})
    return out


def my_record(session_id: int, user_id: int) -> Attendance | None:
    return _attendance(session_id, user_id)
