"""Reads of live rooms for their participants: who may read (participants of an open room), the snapshot (last
value and 15-minute trend per channel, alarms) and the changes after a stream cursor."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.auth.models import User
from app.auth.principal import Principal
from app.core import clock
from app.core.db import session
from app.core.errors import Forbidden, NotFound

from . import channels
from .models import LiveAlarm, LiveReading, LiveRoom, LiveSignal
from .services import Room, ice_servers, room_for


def readable_room(kind: str, ref: int, principal: Principal) -> Room:
    """The room, if the principal is one of its participants and it is open.

    Not a participant (or no such room): 404 `live_room_not_found` (nothing about it is revealed). A participant
    of a closed room: 403 `live_room_closed`."""
    room = room_for(kind, ref)
    if room is None or principal.user_id not in room.participants:
        raise NotFound("没有这个实时会话，或您不是参与者 (no such live room for you)", code="live_room_not_found")
    if not room.is_open:
        raise Forbidden("会话已结束，实时数据和视频已关闭 (the live room is closed)", code="live_room_closed")
    return room


@dataclass(frozen=True)
class Cursor:
    """Where a stream is: the last reading, alarm and signal it delivered (also the SSE event id `r.a.s`)."""
    reading: int = 0
    alarm: int = 0
    signal: int = 0

    def __str__(self) -> str:
        return f"{self.reading}.{self.alarm}.{self.signal}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        parts = (text or "").split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        return cls(*(int(p) for p in parts))


def current_cursor(room_id: int) -> Cursor:
    s = session()
    return Cursor(s.scalar(select(func.max(LiveReading.id)).where(LiveReading.room_id == room_id)) or 0,
                  s.scalar(select(func.max(LiveAlarm.id)).where(LiveAlarm.room_id == room_id)) or 0,
                  s.scalar(select(func.max(LiveSignal.id)).where(LiveSignal.room_id == room_id)) or 0)


def reading_json(r: LiveReading) -> dict[str, Any]:
    return {"id": r.id, "channel": r.channel, "value": r.value, "at": r.at.isoformat()}


def alarm_json(a: LiveAlarm) -> dict[str, Any]:
    label = channels.CHANNELS[a.channel][1]
    return {"id": a.id, "channel": a.channel, "label": label, "value": a.value, "threshold": a.threshold,
            "at": a.at.isoformat()}


def snapshot(room: Room, principal: Principal, now: datetime | None = None) -> dict[str, Any]:
    """What a participant's page starts from: the room, each channel's last value and 15-minute trend, the
    alarms (active = the channel's last value still breaches a rule), the ICE servers and the stream cursor."""
    now = now or clock.now()
    s = session()
    cursor = current_cursor(room.id)      # read first: the stream then delivers everything after it
    rows = s.scalars(select(LiveReading).where(LiveReading.room_id == room.id,
                                               LiveReading.at >= now - channels.TREND_WINDOW,
                                               LiveReading.id <= cursor.reading)
                     .order_by(LiveReading.at, LiveReading.id)).all()
    rules = channels.configured_rules()
    out_channels = []
    for name, (_codes, label, unit) in channels.CHANNELS.items():
        points = channels.in_window([(r.at, r.value) for r in rows if r.channel == name], now)
        last = s.scalar(select(LiveReading).where(LiveReading.room_id == room.id, LiveReading.channel == name,
                                                  LiveReading.id <= cursor.reading)
                        .order_by(LiveReading.at.desc(), LiveReading.id.desc()).limit(1))
        breach = channels.breached(name, last.value, rules) if last is not None else None
        out_channels.append({
            "channel": name, "label": label, "unit": unit,
            "last": None if last is None else {"value": last.value, "at": last.at.isoformat()},
            "trend": [[at.isoformat(), value] for at, value in points],
            "alarm": None if breach is None else breach.threshold,
            "thresholds": [{"op": r.op, "value": r.value} for r in rules if r.channel == name]})
    alarms = s.scalars(select(LiveAlarm).where(LiveAlarm.room_id == room.id, LiveAlarm.id <= cursor.alarm)
                       .order_by(LiveAlarm.id.desc()).limit(50)).all()
    names: dict[int, str] = {uid: name for uid, name in s.execute(
        select(User.id, User.display_name).where(User.id.in_(room.participants)))}
    return {
        "kind": room.kind, "ref": room.ref, "title": room.title, "status": room.status,
        "opened_at": room.opened_at.isoformat(), "me": principal.user_id,
        "participants": [{"user_id": p, "name": names.get(p) or "参与者"} for p in room.participants],
        "video_url": room.video_url, "ice_servers": ice_servers(), "trend_minutes":
            int(channels.TREND_WINDOW.total_seconds() // 60),
        "channels": out_channels, "alarms": [alarm_json(a) for a in alarms], "cursor": str(cursor)}


def changes(room_id: int, user_id: int, cursor: Cursor) -> tuple[list[dict], list[dict], list[dict], Cursor]:
    """Readings, alarms and the signals addressed to this user (or to all but the sender) after `cursor`."""
    s = session()
    readings = s.scalars(select(LiveReading).where(LiveReading.room_id == room_id, LiveReading.id > cursor.reading)
                         .order_by(LiveReading.id).limit(500)).all()
    alarms = s.scalars(select(LiveAlarm).where(LiveAlarm.room_id == room_id, LiveAlarm.id > cursor.alarm)
                       .order_by(LiveAlarm.id).limit(100)).all()
    all_signals = s.scalars(select(LiveSignal).where(LiveSignal.room_id == room_id, LiveSignal.id > cursor.signal)
                            .order_by(LiveSignal.id).limit(200)).all()
    mine = [g for g in all_signals
            if g.recipient == user_id or (g.recipient is None and g.sender != user_id)]
    after = Cursor(readings[-1].id if readings else cursor.reading, alarms[-1].id if alarms else cursor.alarm,
                   all_signals[-1].id if all_signals else cursor.signal)
    return ([reading_json(r) for r in readings], [alarm_json(a) for a in alarms],
            [{"id": g.id, "from": g.sender, "type": g.type, "data": g.data} for g in mine], after)


def room_status(room_id: int) -> str | None:
    return session().scalar(select(LiveRoom.status).where(LiveRoom.id == room_id))


def my_open_rooms(principal: Principal) -> list[dict[str, Any]]:
    """The open rooms the principal takes part in (the JSON list column is filtered here: rooms are few)."""
    rows = session().scalars(select(LiveRoom).where(LiveRoom.status == "open").order_by(LiveRoom.opened_at.desc())
                             .limit(500)).all()
    return [{"kind": r.kind, "ref": r.ref, "title": r.title, "opened_at": r.opened_at.isoformat()}
            for r in rows if principal.user_id in (r.participants or [])]


