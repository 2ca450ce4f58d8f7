"""The resident portal's own tables: bindings (how a resident or family member proved who they are), portal tokens,
SMS/QR challenges with their lockout, versioned consents, family proxies, booking requests and survey answers.

Staff accounts (`app.auth`) are not used here: a portal token names a resident (and, for a family member, the
proxy binding it acts under), nothing else."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class PortalChallenge(Base):
    """A one-time code sent by SMS (`sms`: to the resident's phone on file, `proxy_sms`: to a family member's phone)
    or shown as a QR by the village doctor (`qr`). Only a keyed hash of the code is kept."""

    __tablename__ = "portal_challenges"
    __table_args__ = (Index("ix_portal_challenges_resident", "resident_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(12))                    # sms | qr | proxy_sms
    resident_id: Mapped[int] = mapped_column(BigId)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_hint: Mapped[str | None] = mapped_column(String(16), nullable=True)   # 138****1234
    proxy_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    issued_by: Mapped[str | None] = mapped_column(String(120), nullable=True)   # staff username (QR)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class PortalLock(Base):
    """Wrong codes per resident: the 5th wrong code locks binding for that resident for a period."""

    __tablename__ = "portal_locks"

    resident_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PortalToken(Base):
    """A resident-scoped bearer token (`ygtp_…`, only its SHA-256 kept). `proxy_id` set: a family member acting
    under that proxy binding (stops at once when the binding is revoked)."""

    __tablename__ = "portal_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    resident_id: Mapped[int] = mapped_column(BigId, index=True)
    proxy_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    method: Mapped[str] = mapped_column(String(12))                  # sms | qr | login | proxy_sms
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PortalConsent(Base):
    """One consent decision (append-only): purpose × channel, the consent text's version, granted or withdrawn, and
    who decided (the resident, or a guardian for a child under 14). The latest row per purpose and channel rules."""

    __tablename__ = "portal_consents"
    __table_args__ = (Index("ix_portal_consents_lookup", "resident_id", "purpose", "channel", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId)
    purpose: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    decided_by: Mapped[str] = mapped_column(String(12))              # self | guardian | staff
    guardian_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    guardian_relation: Mapped[str | None] = mapped_column(String(20), nullable=True)
    via: Mapped[str] = mapped_column(String(20))                     # portal | clinic | seed
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PortalProxy(Base):
    """A family member (家属代办) asking to act for a resident: pending until the resident approves; revocable."""

    __tablename__ = "portal_proxies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, index=True)
    name: Mapped[str] = mapped_column(String(80))
    relation: Mapped[str] = mapped_column(String(20))
    phone_encrypted: Mapped[str] = mapped_column(Text)
    phone_hint: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))                  # pending | approved | revoked | declined
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PortalBooking(Base):
    """The resident asks for a follow-up slot (date and half-day); the family doctor is told and confirms by phone."""

    __tablename__ = "portal_bookings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId, index=True)
    disease: Mapped[str | None] = mapped_column(String(20), nullable=True)
    slot_on: Mapped[date] = mapped_column(Date)
    half_day: Mapped[str] = mapped_column(String(2))                 # am | pm
    status: Mapped[str] = mapped_column(String(12))                  # requested | cancelled
    requested_by: Mapped[str] = mapped_column(String(12))            # self | proxy
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PortalSurvey(Base):
    """A satisfaction answer: overall score 1–5 and per-question scores; one per resident and survey code."""

    __tablename__ = "portal_surveys"
    __table_args__ = (Index("uq_portal_surveys_resident_code", "resident_id", "code", unique=True),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(BigId)
    code: Mapped[str] = mapped_column(String(30))
    overall: Mapped[int] = mapped_column(SmallInteger)
    answers: Mapped[dict] = mapped_column(JSONType, default=dict)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
