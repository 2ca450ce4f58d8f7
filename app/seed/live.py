"""The demo's live room (issue 17.2/17.3): village_doctor1 and the county cardiologist in a room with a bedside
monitor (MON-DEMO-1) bound to it and its last ten minutes of vitals, so `make run` shows /live/demo/1 with trends.
Further vitals: `python bench/live_monitor.py --device MON-DEMO-1 ...` (docs/live.md)."""
from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import select

from app.auth.models import User
from app.core import clock
from app.core.db import session
from app.live import services as live

KIND, REF, DEVICE = "demo", 1, "MON-DEMO-1"
PEOPLE = ("village_doctor1", "specialist_cardio")


def seed_live_room() -> dict[str, int]:
    """Open the demo room once (with ten minutes of monitor readings, one every 10 s); {} when it exists."""
    if live.room_for(KIND, REF) is not None:
        return {}
    ids = dict(session().execute(select(User.username, User.id).where(User.username.in_(PEOPLE))).tuples().all())
    if len(ids) < len(PEOPLE):
        return {}
    live.open_room(KIND, REF, [ids[p] for p in PEOPLE], "实时会诊演示：上塘村 胸闷气促患者", device_ids=[DEVICE])
    now = clock.now()
    for n in range(60):
        at, wave = now - timedelta(seconds=10 * (60 - n)), math.sin(n / 6)
        for loinc, value in (("8867-4", 84 + 6 * wave), ("59408-5", 95 + wave), ("8480-6", 132 + 4 * wave),
                             ("8462-4", 82 + 2 * wave), ("9279-1", 18 + wave), ("8310-5", 36.9)):
            live.record_vital(DEVICE, loinc, round(value, 1), at)
    session().commit()
    return {"live_rooms": 1, "live_readings": 360}
