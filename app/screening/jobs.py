"""Jobs of screening: take ids, idempotent, enqueued after commit."""
from __future__ import annotations


def screen_resident(resident_id: int) -> None:
    """Re-screen one resident after new data (the on-new-data path)."""
    from . import services
    services.screen_one(resident_id)
