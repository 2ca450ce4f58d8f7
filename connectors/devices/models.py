"""Tables of the device connector: which device (vendor + serial) belongs to which resident, and every reading a
vendor sent (kept raw, with what became of it, so a reading of an unknown device is stored for review, not lost)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class DeviceRegistration(Base):
    """A device handed to a resident: its readings land on that resident's record (`vendor:<vendor>:<serial>`)."""

    __tablename__ = "device_registrations"
    __table_args__ = (UniqueConstraint("vendor", "serial"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    vendor: Mapped[str] = mapped_column(String(40))
    serial: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))                       # bp | glucose
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_by: Mapped[str] = mapped_column(String(120))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeviceReading(Base):
    """One reading as a vendor sent it, and its outcome: recorded, unknown_device (waiting for a registration),
    or invalid (with the error code)."""

    __tablename__ = "device_readings"
    __table_args__ = (UniqueConstraint("vendor", "reading_key"),
                      Index("ix_device_readings_status", "status", "vendor", "serial"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    vendor: Mapped[str] = mapped_column(String(40))
    reading_key: Mapped[str] = mapped_column(String(80))
    serial: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    measured_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    resident_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    observation_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    client_id: Mapped[str] = mapped_column(String(80))                  # the integration client that sent it
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
