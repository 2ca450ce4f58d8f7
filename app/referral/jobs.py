"""Jobs and schedules of referral (see app/schedules.py). Each takes ids or nothing and is idempotent."""
from __future__ import annotations

from . import services


def start_requested() -> int:
    """Schedule `referral.start_requested`: start `referral_up`/`referral_down` for requests stored while the model
    was not deployed (e.g. rows converted by migration 0007); a request with an instance is skipped."""
    return services.start_requested()
