"""Tables of contracting: the versioned service-package catalogue, one row per contract (one active per resident),
the service items a contract's packages promise (its schedule), every delivery counted against them (the ledger) and
every payment the cashier/insurance system reported."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class ServicePackage(Base):
    """One version of a service package (服务包): a new version is a new row, the previous one is retired."""

    __tablename__ = "contract_packages"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_contract_packages_code_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    target_groups: Mapped[list[str]] = mapped_column(JSONType, default=list)
    price_fen: Mapped[int] = mapped_column(Integer, default=0)                 # per cycle, in fen (分)
    payer_split: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)  # insurance/public_health/self, fen
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    current: Mapped[bool] = mapped_column(Boolean, default=True)               # the version offered today
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class Contract(Base):
    """One family-doctor contract (签约) of one resident for one cycle, from request to end."""

    __tablename__ = "contracts"
    __table_args__ = (
        Index("ix_contracts_org_path", "org_path", postgresql_ops={"org_path": "varchar_pattern_ops"}),
        Index("ix_contracts_resident", "resident_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    contract_no: Mapped[str] = mapped_column(String(24), unique=True)
    resident_id: Mapped[int] = mapped_column(BigId)
    org_code: Mapped[str] = mapped_column(String(40))
    org_path: Mapped[str] = mapped_column(String(400))
    doctor_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    channel: Mapped[str] = mapped_column(String(12))            # portal | outreach | staff | renewal
    # requested | assessed | awaiting_payment | awaiting_signature | active | voided | refused | ended | terminated
    status: Mapped[str] = mapped_column(String(20))
    requested_package: Mapped[str | None] = mapped_column(String(40), nullable=True)
    assessment: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    recommended: Mapped[list[str]] = mapped_column(JSONType, default=list)
    packages: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)   # [{code, version, name, ...}]
    amount_due_fen: Mapped[int] = mapped_column(Integer, default=0)             # the resident's own share
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), nullable=True)
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)   # method, by, at, image/scan
    starts_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    previous_id: Mapped[int | None] = mapped_column(BigId, nullable=True)        # the contract this one renews/replaces
    renewal: Mapped[str | None] = mapped_column(String(12), nullable=True)       # renew | switch | lapse
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)     # 1..5
    end_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # 解约: a move or a switch of team replaced this contract (reason, new contract, effective date, how the
    # resident was told, the ledger when the old team closed it)
    termination: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    requested_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class ContractItem(Base):
    """One service a contract's package promises: quantity per cycle and the dates each unit falls due."""

    __tablename__ = "contract_items"
    __table_args__ = (UniqueConstraint("contract_id", "package_code", "service_code", name="uq_contract_items"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    contract_id: Mapped[int] = mapped_column(BigId, index=True)
    package_code: Mapped[str] = mapped_column(String(40))
    service_code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(12))                # follow_up | exam | home_visit | consult | guidance
    disease: Mapped[str | None] = mapped_column(String(20), nullable=True)
    provider_level: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    due_dates: Mapped[list[str]] = mapped_column(JSONType, default=list)        # ISO dates, one per unit


class ContractDelivery(Base):
    """One unit of a package item delivered (the ledger): from a follow-up visit, an exam or a home visit."""

    __tablename__ = "contract_deliveries"
    __table_args__ = (UniqueConstraint("item_id", "source", "source_ref", name="uq_contract_deliveries_source"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    contract_id: Mapped[int] = mapped_column(BigId, index=True)
    item_id: Mapped[int] = mapped_column(BigId, index=True)
    unit_no: Mapped[int] = mapped_column(Integer)                 # 1..quantity
    source: Mapped[str] = mapped_column(String(20))                # follow_up | manual
    source_ref: Mapped[str] = mapped_column(String(60))
    delivered_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    on_time: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class ContractPayment(Base):
    """A payment the cashier/insurance system confirmed; one for a voided or unknown offer is kept, flagged."""

    __tablename__ = "contract_payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    payment_ref: Mapped[str] = mapped_column(String(120), unique=True)       # <client>:<the cashier's id>
    contract_no: Mapped[str] = mapped_column(String(24), index=True)
    contract_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    payer: Mapped[str] = mapped_column(String(20))                            # self | insurance
    status: Mapped[str] = mapped_column(String(12))                           # applied | flagged
    flag: Mapped[str | None] = mapped_column(String(40), nullable=True)       # offer_voided | amount_mismatch | ...
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
