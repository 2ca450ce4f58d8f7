"""The inbound event store: every delivery from an external system (webhook, HL7 v2, FHIR) is one row, written
before anything acts on it. `(client_id, delivery_key)` is unique and kept forever (no TTL), so a repeated
delivery is answered with the first stored answer and acts once.

Bodies, answers and prepared payloads hold personal data: they are encrypted at rest (`SealedText`/`SealedJSON`)
and the body and payload are purged after the retention period (`app.integrations.retention`), keeping the
metadata, the answer and the body's SHA-256."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.crypto import SealedJSON, SealedText
from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")

# received → processed | waiting (→ processed | expired) | rejected (client error, 4xx) | failed (our error, 5xx)
STATUSES = ("received", "processed", "waiting", "rejected", "failed", "expired")


class InboundEvent(Base):
    """One delivery: who sent what, what we answered, and where it stands."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("client_id", "delivery_key", name="uq_inbound_events_client_delivery"),
        Index("ix_inbound_events_client_received", "client_id", "received_at"),
        Index("ix_inbound_events_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20))               # webhook | hl7v2 | fhir
    delivery_key: Mapped[str] = mapped_column(String(200))          # webhook-id, MSH-10, Bundle id / request id
    message: Mapped[str] = mapped_column(String(120))               # message name, HL7 type, "transaction"
    body: Mapped[str | None] = mapped_column(SealedText, nullable=True)      # None once purged
    body_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    headers: Mapped[dict] = mapped_column(JSONType, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="received")
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[dict | None] = mapped_column(SealedJSON, nullable=True)   # {"content_type", "body"}
    result: Mapped[dict | None] = mapped_column(SealedJSON, nullable=True)     # prepared process payload, ids made
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)      # "code: message" (searched by code)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SyncCursor(Base):
    """Where a periodic pull from an external system (public health, regional platform, insurance) got to."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)      # e.g. "public_health.visits"
    cursor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    pulled: Mapped[int] = mapped_column(Integer, default=0)               # records taken in so far


class ExternalPush(Base):
    """One of our records owed to an external system (the system, our object): pushed once when `sent`; while
    `failed` it keeps its attempts, last error and next retry time, and `alerted_at` once the county administrators
    were told it is stuck (app.integrations.pushes)."""

    __tablename__ = "external_pushes"
    __table_args__ = (UniqueConstraint("system", "object_type", "object_id", name="uq_external_pushes_object"),
                      Index("ix_external_pushes_status_next", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    system: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(80))
    remote_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="sent")            # sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)    # when it was taken
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
