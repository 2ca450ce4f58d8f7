"""What the development SMS sink 'sent': kept so a demo user can read a verification code on the dev inbox page."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class DevSmsMessage(Base):
    """One message the development sink received instead of a real gateway."""

    __tablename__ = "sms_dev_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
