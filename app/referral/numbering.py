"""Referral numbers: unique, human-readable, gap-free per day — 上转 `SZ20261203-0007`, 下转 `XZ20261203-0002`.

The counter row is taken under a row lock (PostgreSQL) or inside SQLite's write transaction, so two referrals issued
at the same moment never share a number; the unique index on `referrals.referral_no` is the last line of defence."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.core.db import session

from .models import ReferralCounter

PREFIX = {"up": "SZ", "down": "XZ"}


def next_number(direction: str, on: date) -> str:
    """The next number for `direction` on local day `on` (call inside the transaction that stores it)."""
    key = f"{PREFIX[direction]}{on:%Y%m%d}"
    s = session()
    row = s.scalars(select(ReferralCounter).where(ReferralCounter.key == key).with_for_update()).first()
    if row is None:
        row = ReferralCounter(key=key, last=0)
        s.add(row)
    row.last += 1
    s.flush()
    return f"{key}-{row.last:04d}"
