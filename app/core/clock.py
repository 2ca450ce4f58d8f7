"""The one clock of the platform.

* `now()` — aware UTC; what is stored (`*_at` columns) and compared.
* `today()` — the calendar date in the configured display time zone (`Settings.display_tz`, default Asia/Shanghai):
  a clinic's "today". Never `now().date()`, which is the UTC date and differs between 16:00 and 24:00 UTC.
* `local(at)`, `local_tz()` — for showing times and reading times that carry no offset (HL7, FHIR, forms).
* `age(birth_date, on=None)` — completed years (on `today()` unless given).

Tests move the clock with `advance()`/`reset()`; everything else calls these functions.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"
_offset = timedelta(0)
_tz: ZoneInfo = ZoneInfo(DEFAULT_TZ)


def configure(display_tz: str) -> None:
    """Set the display time zone (the application factory does this from `Settings.display_tz`)."""
    global _tz
    _tz = ZoneInfo(display_tz)


def now() -> datetime:
    """The current instant, aware UTC."""
    return datetime.now(UTC) + _offset


def local_tz() -> tzinfo:
    """The configured display time zone (the county's local time)."""
    return _tz


def tz_name() -> str:
    return _tz.key


def local(at: datetime) -> datetime:
    """An aware datetime in the display time zone."""
    return at.astimezone(_tz)


def today() -> date:
    """Today's date in the display time zone."""
    return local(now()).date()


def date_of(at: datetime) -> date:
    """The local calendar date of an instant."""
    return local(at).date()


def end_of_day(day: date) -> datetime:
    """23:59 local time of `day`, as an aware datetime (due times of day-granular work)."""
    return datetime.combine(day, time(23, 59), tzinfo=_tz)


def start_of_day(day: date) -> datetime:
    """00:00 local time of `day`, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=_tz)


def assume_local(at: datetime) -> datetime:
    """An aware UTC datetime from one that may lack an offset (read as local time)."""
    return (at if at.tzinfo else at.replace(tzinfo=_tz)).astimezone(UTC)


def utc_offset_minutes(at: datetime | None = None) -> int:
    """Minutes the display time zone is ahead of UTC at `at` (now by default); for SQL on SQLite."""
    offset = local(at or now()).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def age(birth_date: date, on: date | None = None) -> int:
    """Completed years of age on `on` (default: today in the display time zone)."""
    ref = on or today()
    return ref.year - birth_date.year - ((ref.month, ref.day) < (birth_date.month, birth_date.day))


def advance(delta: timedelta) -> None:
    """Move the platform clock forward (tests and demos with a fake clock)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)
