"""The one clock: aware UTC `now()`, a local `today()` in the display time zone, one age function."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.core import clock


@pytest.fixture()
def at():
    """Move the platform clock to a given UTC instant for the test, then back."""
    def move(instant: datetime) -> None:
        clock.reset()
        clock.advance(instant - clock.now())
    yield move
    clock.reset()
    clock.configure(clock.DEFAULT_TZ)


def test_now_is_aware_utc():
    assert clock.now().tzinfo is UTC


def test_today_is_the_clinic_date_not_the_utc_date_in_the_evening(at):
    at(datetime(2026, 3, 8, 17, 30, tzinfo=UTC))          # 01:30 on 9 March in Shanghai
    assert clock.now().date() == date(2026, 3, 8)
    assert clock.today() == date(2026, 3, 9)


def test_today_follows_the_configured_display_time_zone(at):
    clock.configure("Europe/Berlin")
    at(datetime(2026, 3, 8, 23, 30, tzinfo=UTC))          # 00:30 on 9 March in Berlin
    assert clock.today() == date(2026, 3, 9) and clock.tz_name() == "Europe/Berlin"


def test_an_offsetless_time_is_read_as_local_time():
    assert clock.assume_local(datetime(2026, 3, 9, 8, 0)) == datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
    assert clock.end_of_day(date(2026, 3, 9)).astimezone(UTC) == datetime(2026, 3, 9, 15, 59, tzinfo=UTC)


@pytest.mark.parametrize(("born", "on", "years"), [
    (date(1960, 3, 9), date(2026, 3, 8), 65), (date(1960, 3, 9), date(2026, 3, 9), 66),
    (date(1960, 2, 29), date(2026, 2, 28), 65), (date(1960, 2, 29), date(2026, 3, 1), 66)])
def test_age_counts_completed_years(born, on, years):
    assert clock.age(born, on) == years


def test_age_defaults_to_the_local_today(at):
    at(datetime(2026, 3, 8, 17, 30, tzinfo=UTC))          # already 9 March in the clinic
    assert clock.age(date(1960, 3, 9)) == 66


def test_advancing_the_clock_moves_now_and_today(at):
    at(datetime(2026, 3, 8, 4, 0, tzinfo=UTC))
    clock.advance(timedelta(days=1))
    assert clock.today() == date(2026, 3, 9)
