"""Jobs and schedules of quality control (see app/schedules.py)."""
from __future__ import annotations

from . import queries, refresh, services


def check_thresholds() -> int:
    """Schedule `quality.check_thresholds`: raise this month's threshold alerts (idempotent per breach)."""
    return services.check_thresholds()


def refresh_current() -> int:
    """Schedule `quality.refresh_current`: enqueue the refresh of this month's materialized figures."""
    refresh.enqueue_refresh(queries.current_period())
    return 1


def refresh_closed() -> int:
    """Schedule `quality.refresh_closed`: enqueue a final refresh of every closed month (of the last 24) that was
    never refreshed, refreshed before it closed, or failed; returns how many."""
    stale = refresh.stale_periods()
    for period in stale:
        refresh.enqueue_refresh(period)
    return len(stale)
