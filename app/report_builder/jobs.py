"""Schedules of custom reports (see app/schedules.py)."""
from __future__ import annotations

from . import services


def deliver_scheduled() -> int:
    """Schedule `report_builder.deliver_scheduled`: deliver the monthly reports whose day has come (idempotent)."""
    return services.deliver_due()
