"""Tables appraisal owns: the versioned schemes (one row per version) and the period result snapshots."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class AppraisalScheme(Base):
    """One version of the scheme of one institution type: indicators with weights and scoring rules. Versions are
    never edited; saving a change adds the next version, and the highest version is the one in force."""

    __tablename__ = "appraisal_schemes"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))          # township | village | team
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(String(400), default="")
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)   # indicator_id, weight, rule, params
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class AppraisalResult(Base):
    """The result of one institution type for one period: every subject's values, scores, weighted total and rank,
    as computed with the scheme version it names. Recomputing the period replaces the snapshot (one row)."""

    __tablename__ = "appraisal_results"
    __table_args__ = (UniqueConstraint("kind", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(7))          # YYYY-MM | YYYYQn | YYYY
    scheme_id: Mapped[int] = mapped_column(BigId)
    scheme_version: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[str] = mapped_column(String(10))
    window_end: Mapped[str] = mapped_column(String(10))
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)   # per item: peer statistics
    subjects: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)     # ranked, with breakdowns
    computed_by: Mapped[str] = mapped_column(String(120))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
