"""The consult's live room (video + vital signs, wave2 §2.3): opened when a real-time consult is scheduled, closed
with the report. Kept on the consult row (`room`) so both pages know where to connect; an external video service's
link, when the invited side uses one, is stored instead of opening a platform room."""
from __future__ import annotations

from typing import Any

from app.core import clock

from .models import Consult

KIND = "consult"


def open_for(c: Consult, *, external_url: str | None = None) -> dict[str, Any]:
    participants = sorted({int(c.requester_user_id), *(int(u) for u in c.expert_ids or [])})
    room = dict(c.room or {})
    room.update(kind=KIND, ref=c.id, participants=participants, opened_at=clock.now().isoformat(), status="open",
                external_url=external_url or None)
    c.room = room
    return room


def close_for(c: Consult) -> None:
    if not c.room or c.room.get("status") != "open":
        return
    c.room = {**c.room, "status": "closed", "closed_at": clock.now().isoformat()}
