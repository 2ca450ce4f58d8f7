"""Tables of live rooms: the room (one per owning object), the devices bound to it, the vitals it received, the
alarms they raised, and the signalling messages exchanged between its participants' browsers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class LiveRoom(Base):
    """The live room of one object (`kind`, `ref`), e.g. ("consult", 12): open while the activity runs."""

    __tablename__ = "live_rooms"
    __table_args__ = (UniqueConstraint("kind", "ref"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    ref: Mapped[int] = mapped_column(BigId)
    title: Mapped[str] = mapped_column(String(200))
    participants: Mapped[list[int]] = mapped_column(JSONType, default=list)     # user ids
    status: Mapped[str] = mapped_column(String(10))                             # open | closed
    video_url: Mapped[str | None] = mapped_column(String(500), nullable=True)   # external video service, if any
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), nullable=True)


class LiveDevice(Base):
    """A monitor or wearable bound to a room; its readings are the room's vitals while the room is open."""

    __tablename__ = "live_devices"
    __table_args__ = (Index("ix_live_devices_device", "device_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(BigId, index=True)
    device_id: Mapped[str] = mapped_column(String(120))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class LiveReading(Base):
    """One vital-sign value of a room's stream (channel hr | spo2 | sbp | dbp | rr | temp)."""

    __tablename__ = "live_readings"
    __table_args__ = (Index("ix_live_readings_room", "room_id", "id"),
                      Index("ix_live_readings_room_channel", "room_id", "channel", "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(BigId)
    device_id: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(8))
    value: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))               # when measured
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class LiveAlarm(Base):
    """A channel crossed its configured threshold (logged once per crossing, published as LIVE_ALARM)."""

    __tablename__ = "live_alarms"
    __table_args__ = (Index("ix_live_alarms_room", "room_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(8))
    value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[str] = mapped_column(String(20))              # e.g. "<90", ">130"
    at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class LiveSignal(Base):
    """A WebRTC signalling message (hello, offer, answer, candidate, bye) from one participant to another (or all)."""

    __tablename__ = "live_signals"
    __table_args__ = (Index("ix_live_signals_room", "room_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(BigId)
    sender: Mapped[int] = mapped_column(BigId)
    recipient: Mapped[int | None] = mapped_column(BigId, nullable=True)       # None: every other participant
    type: Mapped[str] = mapped_column(String(12))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
