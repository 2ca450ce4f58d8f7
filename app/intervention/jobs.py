"""Schedules of the interventional centre (see app/schedules.py)."""
from __future__ import annotations

from . import monthly


def deliver_monthly_reports() -> int:
    """Schedule `intervention.monthly_reports`: last month's centre report, built and delivered once (idempotent)."""
    return monthly.deliver_due()
