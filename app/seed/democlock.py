"""The demo seed's clock: it stages months of work by moving the platform clock to the days it happened."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from app.core import clock


class DemoClock:
    """Moves the platform clock to 09:30 local time (display time zone) of a day relative to today, and back at the end."""

    def __init__(self) -> None:
        self.moved = timedelta(0)
        self.today = clock.today()

    def day(self, offset: int, at: time = time(9, 30)) -> datetime:
        return datetime.combine(self.today + timedelta(days=offset), at, tzinfo=clock.local_tz()).astimezone(UTC)

    def go(self, offset: int, at: time = time(9, 30)) -> None:
        delta = self.day(offset, at) - clock.now()
        clock.advance(delta)
        self.moved += delta

    def restore(self) -> None:
        clock.advance(-self.moved)
        self.moved = timedelta(0)
