"""The notification outbox (one row per message to send, keyed so it is sent once) and residents' consent."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")
CHANNELS = ("sms", "app", "platform")
# pending → sending → sent | failed (gave up) | suppressed (no consent / no address) | uncertain (the provider may
# have sent it: a timeout after the request left; never retried automatically, since SMS sends are not idempotent)
STATUSES = ("pending", "sending", "sent", "failed", "suppressed", "uncertain")


class OutboxMessage(Base):
    """One message to one recipient on one channel; `idempotency_key` is unique, so producers may repeat."""

    __tablename__ = "notification_outbox"
    __table_args__ = (Index("ix_notification_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient_type: Mapped[str] = mapped_column(String(20))          # resident | user
    recipient_id: Mapped[int] = mapped_column(BigId)
    template_code: Mapped[str] = mapped_column(String(80))
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_message_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ContactConsent(Base):
    """A resident's consent to be contacted on a channel (SMS, app push); absent means not given."""

    __tablename__ = "contact_consents"
    __table_args__ = (UniqueConstraint("resident_id", "channel", name="uq_contact_consents_resident_channel"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, index=True)
    channel: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
