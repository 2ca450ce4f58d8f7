"""Tables of the mobile sync API: registered phones, the packets they received, completion commands and leases."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class MobileDevice(Base):
    """One installation of the client for one user (a phone shared by two doctors is two rows)."""

    __tablename__ = "mobile_devices"
    __table_args__ = (UniqueConstraint("device_key", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_key: Mapped[str] = mapped_column(String(64))                  # the client's X-Device-Id
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str | None] = mapped_column(String(160), nullable=True)  # the browser's User-Agent, shortened
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class MobileSnapshot(Base):
    """What one packet gave a device: item key → content hash (`t812`, `r55`, `s<ref>`); the last few are kept so a
    pull token names the state the device is in, and the next pull sends only the difference."""

    __tablename__ = "mobile_snapshots"
    __table_args__ = (Index("ix_mobile_snapshots_device", "device_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("mobile_devices.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(16))
    items: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MobileCompletion(Base):
    """A completion command and the answer given to it (200 or 409), replayed for a repeated `completion_id`."""

    __tablename__ = "mobile_completions"

    completion_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("mobile_devices.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(BigId, index=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)       # the conflict reason of a 409
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)        # the form as entered (kept)
    response: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    completed_at_device: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # what the doctor did with a 409: action → the answer given (attach_as_note, record_visit, discard)
    resolutions: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MobileLease(Base):
    """A device's offline lease on a task assigned to its user; renewed by each pull, ended by completion,
    reassignment or revocation of the device."""

    __tablename__ = "mobile_leases"

    task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("mobile_devices.id", ondelete="CASCADE"), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


__all__ = ["MobileCompletion", "MobileDevice", "MobileLease", "MobileSnapshot"]
