"""Retention of inbound message bodies (HL7 v2, FHIR, webhooks).

Bodies and the payloads prepared from them hold personal data that, once recorded, lives in the health record;
the transport copy is kept only as long as an operator may need to inspect or replay it. After
`YGT_MESSAGE_RETENTION_DAYS` (default 30) a finished delivery (processed, rejected, expired, failed) loses its
body and prepared payload; its metadata (client, channel, delivery key, message type, times, status),
the body's SHA-256 and the stored answer stay, so a late repeat of the same delivery key is still answered with the
first answer and acts once. `0` disables purging. The scheduler runs `purge_bodies` hourly.
"""
from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy import select, update

from app.core import clock, logs
from app.core.db import session, unit_of_work

from .models import InboundEvent

log = logs.get("integrations.retention")
FINISHED = ("processed", "rejected", "expired", "failed")
BATCH = 1000


def retention_days() -> int:
    return int(os.environ.get("YGT_MESSAGE_RETENTION_DAYS", "30"))


def purge_bodies(*, days: int | None = None, limit: int = 20_000) -> int:
    """Purge bodies of finished deliveries older than the retention period; the number purged."""
    days = retention_days() if days is None else days
    if days <= 0:
        return 0
    cutoff = clock.now() - timedelta(days=days)
    purged = 0
    while purged < limit:
        ids = list(session().scalars(select(InboundEvent.id).where(
            InboundEvent.purged_at.is_(None), InboundEvent.status.in_(FINISHED),
            InboundEvent.received_at < cutoff).order_by(InboundEvent.id).limit(BATCH)))
        session().rollback()
        if not ids:
            break
        with unit_of_work() as s:
            s.execute(update(InboundEvent).where(InboundEvent.id.in_(ids)).values(
                body=None, result=None, purged_at=clock.now()))
        purged += len(ids)
    if purged:
        log.info("message bodies purged", extra={"status": purged})
    return purged
