"""Writes of live rooms: open/close a room for an object, take a monitor's vital sign into its open room (alarm at
the configured thresholds, published as `hooks.LIVE_ALARM`), relay a WebRTC signalling message between
participants.

The public interface for other capabilities (agreed with consult, TEAM.md):

    open_room(kind, ref, participants, title, device_ids=())  -> Room
    close_room(kind, ref)                                     -> Room | None
    room_for(kind, ref)                                       -> Room | None
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.auth.models import User
from app.auth.principal import Principal
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, Forbidden, Invalid
from app.workflows import hooks

from . import channels
from .models import LiveAlarm, LiveDevice, LiveReading, LiveRoom, LiveSignal

KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SIGNAL_TYPES = ("hello", "offer", "answer", "candidate", "bye")
MAX_SIGNAL_BYTES = 32 * 1024


@dataclass(frozen=True)
class Room:
    id: int
    kind: str
    ref: int
    title: str
    participants: tuple[int, ...]
    device_ids: tuple[str, ...]
    status: str                       # open | closed
    video_url: str | None
    opened_at: datetime
    closed_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


def _view(row: LiveRoom) -> Room:
    devices = session().scalars(select(LiveDevice.device_id).where(LiveDevice.room_id == row.id)
                                .order_by(LiveDevice.id))
    return Room(row.id, row.kind, row.ref, row.title, tuple(row.participants or ()), tuple(devices), row.status,
                row.video_url, row.opened_at, row.closed_at)


def video_url_for(kind: str, ref: int) -> str | None:
    """The external video service's link for this room when YGT_LIVE_VIDEO_URL (a template with {kind} and {ref})
    is configured; None means WebRTC between the browsers with this platform as the signalling server."""
    template = os.environ.get("YGT_LIVE_VIDEO_URL")
    return template.format(kind=kind, ref=ref) if template else None


def ice_servers() -> list[dict[str, Any]]:
    """STUN/TURN servers for RTCPeerConnection from YGT_LIVE_ICE_SERVERS (JSON list of RTCIceServer); none on a LAN."""
    raw = os.environ.get("YGT_LIVE_ICE_SERVERS")
    if not raw:
        return []
    servers = json.loads(raw)
    if not isinstance(servers, list) or not all(isinstance(s, dict) and s.get("urls") for s in servers):
        raise Invalid("YGT_LIVE_ICE_SERVERS 须为 RTCIceServer 列表 (a JSON list of {urls, username?, credential?})",
                      code="live_bad_ice_servers")
    return servers


def _checked(kind: str, ref: int, participants: Sequence[int], title: str, device_ids: Sequence[str]):
    if not isinstance(kind, str) or not KIND.match(kind):
        raise Invalid("房间类型无效 (kind: lowercase letters, digits, _; up to 40)", code="live_bad_kind")
    if isinstance(ref, bool) or not isinstance(ref, int) or ref <= 0:
        raise Invalid("房间所属对象编号无效 (ref: a positive integer)", code="live_bad_ref")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        raise Invalid("房间标题不能为空，且不超过200字 (title: 1-200 characters)", code="live_bad_title")
    people = list(dict.fromkeys(participants or ()))
    if not people or not all(isinstance(p, int) and not isinstance(p, bool) for p in people):
        raise Invalid("至少需要一名参与者 (participants: a non-empty list of user ids)", code="live_no_participants")
    known = set(session().scalars(select(User.id).where(User.id.in_(people), User.active.is_(True))))
    unknown = [p for p in people if p not in known]
    if unknown:
        raise Invalid(f"参与者不存在或已停用 (unknown users {unknown})", code="live_unknown_participant",
                      users=unknown)
    devices = list(dict.fromkeys(device_ids or ()))
    if not all(isinstance(d, str) and 0 < len(d.strip()) <= 120 for d in devices):
        raise Invalid("设备编号无效 (device ids: 1-120 characters)", code="live_bad_device")
    return people, [d.strip() for d in devices]


def open_room(kind: str, ref: int, participants: list[int], title: str,
              device_ids: Sequence[str] = ()) -> Room:
    """Open the live room of (kind, ref) for these participants, binding the given monitors/wearables to it.

    Opening an open room again updates its participants, title and devices (idempotent); a closed room is not
    reopened (409 `live_room_closed`). A device streaming into another open room is refused (409
    `live_device_in_use`)."""
    with unit_of_work() as s:
        people, devices = _checked(kind, ref, participants, title, device_ids)
        row = s.scalar(select(LiveRoom).where(LiveRoom.kind == kind, LiveRoom.ref == ref).with_for_update())
        if row is not None and row.status != "open":
            raise Conflict("该会话已结束，不能重新开启 (the room is closed)", code="live_room_closed")
        busy = _devices_in_other_open_rooms(devices, None if row is None else row.id)
        if busy:
            raise Conflict(f"设备正在其他会话中使用 (devices in another open room: {busy})",
                           code="live_device_in_use", devices=busy)
        now = clock.now()
        if row is None:
            row = LiveRoom(kind=kind, ref=ref, title=title.strip(), participants=people, status="open",
                           video_url=video_url_for(kind, ref), opened_at=now)
            s.add(row)
            s.flush()
        else:
            row.title, row.participants = title.strip(), people
        bound = set(s.scalars(select(LiveDevice.device_id).where(LiveDevice.room_id == row.id)))
        for device in devices:
            if device not in bound:
                s.add(LiveDevice(room_id=row.id, device_id=device, bound_at=now))
        s.flush()
        return _view(row)


def _devices_in_other_open_rooms(devices: list[str], room_id: int | None) -> list[str]:
    if not devices:
        return []
    query = (select(LiveDevice.device_id).join(LiveRoom, LiveRoom.id == LiveDevice.room_id)
             .where(LiveDevice.device_id.in_(devices), LiveRoom.status == "open"))
    if room_id is not None:
        query = query.where(LiveRoom.id != room_id)
    return sorted(set(session().scalars(query)))


def close_room(kind: str, ref: int) -> Room | None:
    """Close the room of (kind, ref): its stream and video end, participants get 403 from now on, its devices'
    later readings are refused. Closing a closed room changes nothing; None when there is no room."""
    with unit_of_work() as s:
        row = s.scalar(select(LiveRoom).where(LiveRoom.kind == kind, LiveRoom.ref == ref).with_for_update())
        if row is None:
            return None
        if row.status == "open":
            row.status, row.closed_at = "closed", clock.now()
            s.flush()
        return _view(row)


def max_minutes() -> int:
    """How long a room may stay open (YGT_LIVE_MAX_MINUTES, default 120): a forgotten room does not stream forever."""
    raw = os.environ.get("YGT_LIVE_MAX_MINUTES") or "120"
    try:
        value = int(raw)
    except ValueError:
        raise Invalid("YGT_LIVE_MAX_MINUTES 须为正整数 (minutes)", code="live_bad_max_minutes") from None
    if value <= 0:
        raise Invalid("YGT_LIVE_MAX_MINUTES 须为正整数 (minutes)", code="live_bad_max_minutes")
    return value


def close_expired_rooms(now: datetime | None = None) -> int:
    """Close every room open longer than `max_minutes()` (schedule `live.close_expired_rooms`); each closing is
    published as `hooks.LIVE_ROOM_EXPIRED` for the room's owner. Participants get 403 afterwards and the devices'
    readings are refused. Answers how many rooms were closed."""
    limit = max_minutes()
    now = now or clock.now()
    cutoff = now - timedelta(minutes=limit)
    closed = 0
    with unit_of_work() as s:
        rows = s.scalars(select(LiveRoom).where(LiveRoom.status == "open", LiveRoom.opened_at <= cutoff)
                         .order_by(LiveRoom.id).with_for_update(skip_locked=True))
        for row in rows:
            row.status, row.closed_at = "closed", now
            hooks.emit(hooks.LIVE_ROOM_EXPIRED, kind=row.kind, ref=row.ref, opened_at=row.opened_at, closed_at=now,
                       max_minutes=limit)
            closed += 1
        s.flush()
    return closed


def room_for(kind: str, ref: int) -> Room | None:
    """The room of (kind, ref), open or closed, or None."""
    row = session().scalar(select(LiveRoom).where(LiveRoom.kind == kind, LiveRoom.ref == ref))
    return None if row is None else _view(row)


# -- vitals ---------------------------------------------------------------------------------------------------------

def room_of_device(device_id: str) -> LiveRoom | None:
    """The room the device was last bound to (open or closed), or None when it never was."""
    return session().scalar(select(LiveRoom).join(LiveDevice, LiveDevice.room_id == LiveRoom.id)
                            .where(LiveDevice.device_id == device_id)
                            .order_by(LiveRoom.status.desc(), LiveDevice.id.desc()).limit(1))


def record_vital(device_id: str, loinc: str, value: float, at: datetime) -> LiveReading | None:
    """Take one reading of a device into its room's stream, in the caller's transaction.

    None when the code is not a live channel or the device is bound to no room (the observation is then only a
    record fact). A device whose room is closed is refused with 403 `live_room_closed` (nothing is stored)."""
    channel = channels.channel_of(loinc)
    if channel is None:
        return None
    room = room_of_device(device_id)
    if room is None:
        return None
    if room.status != "open":
        raise Forbidden("会话已结束，不再接收该设备的生命体征 (the device's live room is closed)",
                        code="live_room_closed")
    with unit_of_work() as s:
        reading = LiveReading(room_id=room.id, device_id=device_id, channel=channel, value=float(value), at=at,
                              received_at=clock.now())
        rule = channels.breached(channel, reading.value, channels.configured_rules())
        if rule is not None and not _was_breaching(room.id, channel, rule):
            alarm = LiveAlarm(room_id=room.id, channel=channel, value=reading.value, threshold=rule.threshold, at=at)
            s.add(alarm)
            hooks.emit(hooks.LIVE_ALARM, kind=room.kind, ref=room.ref, channel=channel, value=reading.value,
                       threshold=rule.threshold, at=at)
        s.add(reading)
        s.flush()
        return reading


def _was_breaching(room_id: int, channel: str, rule: channels.Rule) -> bool:
    """Whether the channel's previous reading already breached the rule (one alarm per crossing, not per second)."""
    previous = session().scalar(select(LiveReading.value).where(LiveReading.room_id == room_id,
                                                                LiveReading.channel == channel)
                                .order_by(LiveReading.at.desc(), LiveReading.id.desc()).limit(1))
    return previous is not None and rule.breached(previous)


# -- signalling -----------------------------------------------------------------------------------------------------

def post_signal(room: Room, principal: Principal, body: Any) -> LiveSignal:
    """Relay one WebRTC signalling message from a participant to another participant (`to`) or to all others."""
    if not isinstance(body, dict) or body.get("type") not in SIGNAL_TYPES:
        raise Invalid(f"信令类型无效 (type: one of {', '.join(SIGNAL_TYPES)})", code="live_bad_signal")
    to, data = body.get("to"), body.get("data") or {}
    if to is not None and (isinstance(to, bool) or not isinstance(to, int) or to not in room.participants
                           or to == principal.user_id):
        raise Invalid("信令接收方须为本会话的其他参与者 (to: another participant's user id)", code="live_bad_recipient")
    if not isinstance(data, dict) or len(json.dumps(data)) > MAX_SIGNAL_BYTES:
        raise Invalid("信令内容须为不超过32KB的对象 (data: an object up to 32 KB)", code="live_bad_signal")
    with unit_of_work() as s:
        signal = LiveSignal(room_id=room.id, sender=principal.user_id, recipient=to, type=body["type"], data=data,
                            at=clock.now())
        s.add(signal)
        s.flush()
        return signal
