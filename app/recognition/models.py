"""Tables of mutual recognition: which organisation is accredited for which result item (the 互认 quality basis),
and every order the HIS (or a clinician on the platform) checked against the network's recognised results, with the
orderer's reason when a recognised result was still valid (or the order withdrawn: a repeat avoided)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")
ITEM_CLASSES = ("lab", "imaging")
# clear: no recognised result inside its window; awaiting_reason: one is, the orderer has not answered yet;
# kept: the orderer repeats it and gave a reason; withdrawn: the orderer took the recognised result (repeat avoided)
ORDER_STATUSES = ("clear", "awaiting_reason", "kept", "withdrawn")


class Accreditation(Base):
    """An organisation's lab or imaging department passed the quality control that makes its results recognisable
    for one item (`item_code`; `*` = every item of the class), from `valid_from` until `valid_to` (inclusive)."""

    __tablename__ = "recognition_accreditations"
    __table_args__ = (UniqueConstraint("org_code", "item_class", "item_code", name="uq_recognition_accreditation"),
                      CheckConstraint("item_class IN ('lab', 'imaging')", name="item_class"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(String(40), index=True)
    item_class: Mapped[str] = mapped_column(String(12))
    item_code: Mapped[str] = mapped_column(String(20))
    programme: Mapped[str] = mapped_column(String(200))        # e.g. 省临床检验中心室间质评合格
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecognitionOrder(Base):
    """One lab/imaging order checked for a recognised result: what was found, and the orderer's answer."""

    __tablename__ = "recognition_orders"
    __table_args__ = (
        Index("ix_recognition_orders_org_path", "org_path", "ordered_at",
              postgresql_ops={"org_path": "varchar_pattern_ops"}),
        Index("ix_recognition_orders_resident", "resident_id", "ordered_at"),
        CheckConstraint("status IN ('clear', 'awaiting_reason', 'kept', 'withdrawn')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_key: Mapped[str] = mapped_column(String(140), unique=True)      # <channel/client>:<the orderer's id>
    order_no: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(20))                      # his | platform
    resident_id: Mapped[int] = mapped_column(BigId)
    org_code: Mapped[str] = mapped_column(String(40))
    org_path: Mapped[str] = mapped_column(String(400))
    orderer: Mapped[str] = mapped_column(String(120))
    orderer_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    item_class: Mapped[str] = mapped_column(String(12))
    item_code: Mapped[str] = mapped_column(String(20))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    matched: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)   # recognised results found
    reason_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
