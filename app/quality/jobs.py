"""Jobs and schedules of quality control (see app/schedules.py)."""
from __future__ import annotations

from . import services


def check_thresholds() -> int:
    """Schedule `quality.check_thresholds`: raise this month's threshold alerts (idempotent per breach)."""
    return services.check_thresholds()
