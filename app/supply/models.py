"""Tables of supply: stores (一级库/二级库) per organisation, the items they hold, stock per lot, every movement,
each serialised UDI used on a patient, recalls, the drug-shortage register, stock alerts, replenishment requests
owed to the SPD, and the SPD messages received (idempotency)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Store(Base):
    """One store of an organisation: `primary` = 一级库 (pharmacy / central store), `secondary` = 二级库 (ward,
    interventional centre, township pharmacy) replenished from a primary store."""

    __tablename__ = "supply_stores"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    org_code: Mapped[str] = mapped_column(String(40), index=True)
    org_path: Mapped[str] = mapped_column(String(400))
    level: Mapped[str] = mapped_column(String(12))                          # primary | secondary
    parent_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    transfer_lead_days: Mapped[int] = mapped_column(Integer, default=1)     # 一级→二级 replenishment lead time
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class Item(Base):
    """A stocked item: a supervised drug or a (high-value) consumable. `gtin` is the UDI-DI of a consumable."""

    __tablename__ = "supply_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))                           # drug | consumable
    category: Mapped[str] = mapped_column(String(40), default="")           # anticoagulant, antidote, stent …
    unit: Mapped[str] = mapped_column(String(20))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True, nullable=True)
    high_value: Mapped[bool] = mapped_column(Boolean, default=False)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    rescue: Mapped[bool] = mapped_column(Boolean, default=False)            # antidotes: z = 2.33
    unit_price_fen: Mapped[int] = mapped_column(Integer, default=0)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=7)         # supplier lead time
    review_period_days: Mapped[int] = mapped_column(Integer, default=7)
    insurance_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    spd_code: Mapped[str | None] = mapped_column(String(60), nullable=True, unique=True)


class Lot(Base):
    """What one store holds of one item lot; `on_hand` never goes below zero (CHECK + conditional updates)."""

    __tablename__ = "supply_lots"
    __table_args__ = (UniqueConstraint("store_id", "item_id", "lot_no", "consignment", name="uq_supply_lots_key"),
                      CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
                      Index("ix_supply_lots_item", "item_id", "lot_no"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(BigId, index=True)
    item_id: Mapped[int] = mapped_column(BigId)
    lot_no: Mapped[str] = mapped_column(String(40))
    expiry_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    consignment: Mapped[bool] = mapped_column(Boolean, default=False)       # 寄售: the supplier's until used
    supplier: Mapped[str] = mapped_column(String(120), default="")
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)


class Movement(Base):
    """One stock movement: receipt, issue (out to a ward/secondary store), transfer_in, use (on a patient), return,
    adjust. `quantity` is positive; `delta` is its effect on the store's stock (±)."""

    __tablename__ = "supply_movements"
    __table_args__ = (Index("ix_supply_movements_store_item", "store_id", "item_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[int] = mapped_column(BigId)
    item_id: Mapped[int] = mapped_column(BigId)
    lot_id: Mapped[int] = mapped_column(BigId)
    quantity: Mapped[int] = mapped_column(Integer)
    delta: Mapped[int] = mapped_column(Integer)
    consignment: Mapped[bool] = mapped_column(Boolean, default=False)
    resident_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    case_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)
    counterpart: Mapped[str | None] = mapped_column(String(120), nullable=True)   # supplier, ward or store
    source_key: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)
    actor: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class UdiUse(Base):
    """One serialised item used on a patient: (GTIN, serial) is used once (unique)."""

    __tablename__ = "supply_udi_uses"
    __table_args__ = (UniqueConstraint("gtin", "serial", name="uq_supply_udi_uses_gtin_serial"),
                      Index("ix_supply_udi_uses_lot", "gtin", "lot_no"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    gtin: Mapped[str] = mapped_column(String(14))
    serial: Mapped[str | None] = mapped_column(String(40), nullable=True)
    lot_no: Mapped[str | None] = mapped_column(String(40), nullable=True)
    expiry_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    item_id: Mapped[int] = mapped_column(BigId)
    store_id: Mapped[int] = mapped_column(BigId)
    movement_id: Mapped[int] = mapped_column(BigId)
    resident_id: Mapped[int] = mapped_column(BigId, index=True)
    case_ref: Mapped[str] = mapped_column(String(80), index=True)
    raw: Mapped[str] = mapped_column(String(200))
    used_by: Mapped[str] = mapped_column(String(120))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class Recall(Base):
    """A recall of one product lot (UDI-DI + lot; lot empty = every lot of the product)."""

    __tablename__ = "supply_recalls"
    __table_args__ = (UniqueConstraint("gtin", "lot_no", name="uq_supply_recalls_gtin_lot"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    gtin: Mapped[str] = mapped_column(String(14))
    lot_no: Mapped[str] = mapped_column(String(40), default="")
    level: Mapped[str] = mapped_column(String(8), default="II")              # 一级/二级/三级召回
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(120))
    issued_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class Shortage(Base):
    """The drug-shortage register (短缺药品登记): one row per reported shortage of an item."""

    __tablename__ = "supply_shortages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(BigId, index=True)
    org_code: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="active")        # active | resolved
    reason: Mapped[str] = mapped_column(Text)
    alternative: Mapped[str] = mapped_column(Text, default="")
    reported_on: Mapped[date] = mapped_column(Date)
    expected_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    resolved_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reported_by: Mapped[str] = mapped_column(String(120))


class Alert(Base):
    """A stock alert raised for a store's keeper: below_rop, below_safety, near_expiry, recalled_stock.
    One open alert per `dedupe_key`; it closes when the condition is gone."""

    __tablename__ = "supply_alerts"
    __table_args__ = (Index("ix_supply_alerts_store", "store_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    store_id: Mapped[int] = mapped_column(BigId)
    item_id: Mapped[int] = mapped_column(BigId)
    lot_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="open")          # open | closed
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), nullable=True)


class Replenishment(Base):
    """A replenishment request (请领单/采购建议) owed to the SPD; `status` open until the delivery arrives."""

    __tablename__ = "supply_replenishments"
    __table_args__ = (Index("ix_supply_replenishments_open", "store_id", "item_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_no: Mapped[str] = mapped_column(String(40), unique=True)
    store_id: Mapped[int] = mapped_column(BigId)
    item_id: Mapped[int] = mapped_column(BigId)
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="open")          # open | received | cancelled
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), nullable=True)


class SpdMessage(Base):
    """One message from the network's unified supply chain (SPD), kept by its own message id so a repeat acts once."""

    __tablename__ = "supply_spd_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class Reservation(Base):
    """Stock of one lot held for one patient case (耗材预留): `quantity` reserved, `consumed` of it scanned in use.
    While `active`, `quantity − consumed` is counted in the lot's `reserved` (available = on hand − reserved); a use
    consumes it, cancelling the case (or the end of the operation) releases the rest."""

    __tablename__ = "supply_reservations"
    __table_args__ = (Index("ix_supply_reservations_case", "case_ref", "status"),
                      Index("ix_supply_reservations_lot", "lot_id", "status"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_ref: Mapped[str] = mapped_column(String(80))
    resident_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    store_id: Mapped[int] = mapped_column(BigId)
    item_id: Mapped[int] = mapped_column(BigId)
    lot_id: Mapped[int] = mapped_column(BigId)
    quantity: Mapped[int] = mapped_column(Integer)
    consumed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="active")        # active | consumed | released
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), nullable=True)
