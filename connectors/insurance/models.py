"""DRG grouping and payment per inpatient case, imported from the medical-insurance platform (医保 DRG 结算)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class DrgSettlement(Base):
    """One inpatient case as the insurance platform grouped and paid it; re-imports update the same row."""

    __tablename__ = "drg_settlements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_no: Mapped[str] = mapped_column(String(80), unique=True)         # the insurer's settlement/case number
    resident_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    org_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    admitted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    discharged_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    drg_code: Mapped[str] = mapped_column(String(20))
    drg_name: Mapped[str] = mapped_column(String(200), default="")
    relative_weight: Mapped[Decimal | None] = mapped_column(Numeric(8, 4), nullable=True)
    total_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    fund_paid: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    settled_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raw: Mapped[dict] = mapped_column(JSONType, default=dict)
