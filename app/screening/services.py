"""Use cases of screening (filled in below)."""
from __future__ import annotations


def screen_one(resident_id: int) -> None:
    return None
