"""The consult's live room (video + vital signs, wave2 §2.3, `app.live`): opened when a real-time consult is
scheduled (participants: the requester and the assigned experts; the bedside monitors named in the request),
closed with the report. The consult row keeps a copy (`room`) for its page; an external video service's link, when
the invited side uses one, is stored beside the platform room."""
from __future__ import annotations

from typing import Any

from app.core import clock
from app.core.errors import Conflict
from app.live import services as live

from .models import Consult

KIND = "consult"


def open_for(c: Consult, *, external_url: str | None = None) -> dict[str, Any]:
    """Open (or update) the room; a monitor already streaming into another open room is left out and logged."""
    participants = sorted({int(c.requester_user_id), *(int(u) for u in c.expert_ids or [])})
    devices = list((c.room or {}).get("device_ids") or [])
    title = f"远程会诊 {c.consult_no} {c.resident_name or ''}".strip()
    note = None
    if (c.room or {}).get("expired"):        # closed at the maximum duration: not reopened (a reassignment goes on)
        return c.room
    try:
        room = live.open_room(KIND, c.id, participants, title, devices)
    except Conflict as exc:
        if getattr(exc, "code", None) != "live_device_in_use":
            raise
        note = f"监护设备正在其他会诊中使用，未绑定：{', '.join(devices)}"
        room = live.open_room(KIND, c.id, participants, title, [])
    c.room = {**(c.room or {}), "kind": KIND, "ref": c.id, "participants": participants, "status": "open",
              "opened_at": clock.now().isoformat(), "external_url": external_url or room.video_url,
              **({"note": note} if note else {})}
    return c.room


def close_for(c: Consult) -> None:
    live.close_room(KIND, c.id)
    if c.room and c.room.get("status") == "open":
        c.room = {**c.room, "status": "closed", "closed_at": clock.now().isoformat()}
