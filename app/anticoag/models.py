"""Tables of anticoagulant monitoring: one row per episode (a patient on one anticoagulant, from the first released
prescription until stopped), one row per monitoring result (INR, creatinine/CrCl, platelets) with its due date and
what the tables made of it, and one row per event raised on the episode (urgent path, dose change, pharmacist
review of a renal dose band, an interacting drug)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class AnticoagEpisode(Base):
    """One patient on one anticoagulant (warfarin, rivaroxaban, enoxaparin, nadroparin)."""

    __tablename__ = "anticoag_episodes"
    __table_args__ = (
        Index("ix_anticoag_episodes_resident", "resident_id", "drug", "status"),
        Index("ix_anticoag_episodes_org_path", "org_path", postgresql_ops={"org_path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId)
    drug: Mapped[str] = mapped_column(String(40))
    indication: Mapped[str] = mapped_column(String(40))
    target_lo: Mapped[float | None] = mapped_column(Float, nullable=True)      # warfarin INR target range
    target_hi: Mapped[float | None] = mapped_column(Float, nullable=True)
    org_code: Mapped[str] = mapped_column(String(40))          # the resident's managing organisation (village)
    org_path: Mapped[str] = mapped_column(String(400))
    prescriber_org_code: Mapped[str] = mapped_column(String(40))
    prescription_id: Mapped[int | None] = mapped_column(BigId, nullable=True)   # the latest released prescription
    status: Mapped[str] = mapped_column(String(12))            # active | stopped
    phase: Mapped[str] = mapped_column(String(16))             # initiation | stable | dose_changed (warfarin)
    dose_mg: Mapped[float | None] = mapped_column(Float, nullable=True)
    frequency: Mapped[str | None] = mapped_column(String(12), nullable=True)
    weekly_dose_mg: Mapped[float | None] = mapped_column(Float, nullable=True)
    dose_band: Mapped[str | None] = mapped_column(String(60), nullable=True)    # DOAC/LMWH: the DMN dose label
    crcl_ml_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    weight_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    started_on: Mapped[date] = mapped_column(Date)
    next_inr_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_renal_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_platelet_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    stopped_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class AnticoagResult(Base):
    """One monitoring result of an episode: INR, creatinine clearance or platelets, and what it led to."""

    __tablename__ = "anticoag_results"
    __table_args__ = (Index("ix_anticoag_results_episode", "episode_id", "measured_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_key: Mapped[str] = mapped_column(String(120), unique=True)     # obs:<id> | task:<id> — one row per fact
    episode_id: Mapped[int] = mapped_column(BigId)
    resident_id: Mapped[int] = mapped_column(BigId)
    org_path: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(8))                # inr | crcl | plt
    value: Mapped[float] = mapped_column(Float)
    measured_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)   # done ≤ due + 3 d (wave2 §3.5)
    in_range: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    bleeding: Mapped[str] = mapped_column(String(8), default="none")        # none | minor | major
    action: Mapped[str | None] = mapped_column(String(60), nullable=True)    # warfarin_inr's action
    source: Mapped[str] = mapped_column(String(12))             # form | lis
    recorded_by: Mapped[str] = mapped_column(String(120))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class AnticoagEvent(Base):
    """Something raised on an episode: urgent path, dose adjustment, renal dose-band review, interacting drug."""

    __tablename__ = "anticoag_events"
    __table_args__ = (Index("ix_anticoag_events_episode", "episode_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    episode_id: Mapped[int] = mapped_column(BigId)
    resident_id: Mapped[int] = mapped_column(BigId)
    org_path: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(20))   # urgent | dose_adjusted | renal_review | interaction | stopped
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
