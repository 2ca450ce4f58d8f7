"""Jobs and schedules of live rooms (see app/schedules.py)."""
from __future__ import annotations

from . import services


def close_expired_rooms() -> int:
    """Schedule `live.close_expired_rooms`: close the rooms open past YGT_LIVE_MAX_MINUTES (default 120)."""
    return services.close_expired_rooms()
