"""The resident registry: one row per person. ID number and phone are stored encrypted; a keyed hash of the ID
number makes exact search possible without decrypting. `org_path` is copied from the managing organization so
data scope is a prefix condition on this table alone."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Resident(Base):
    """A resident of the county (居民), managed by a village clinic or township health centre."""

    __tablename__ = "residents"
    __table_args__ = (
        CheckConstraint("sex IN ('M', 'F')", name="sex"),
        Index("ix_residents_org_path", "org_path", postgresql_ops={"org_path": "varchar_pattern_ops"}),
        Index("ix_residents_name", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    phone_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    id_number_encrypted: Mapped[str] = mapped_column(Text)
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the first and last character, the only ones a mask shows: with the birth date and sex shown beside it, area
    # digits or the last four would let anyone rebuild the number (GB 11643 leaves ~3 unknown digits)
    id_number_hint: Mapped[str] = mapped_column(String(2))
    org_code: Mapped[str] = mapped_column(ForeignKey("organizations.code"), index=True)
    org_path: Mapped[str] = mapped_column(String(400))
    family_doctor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                              nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def id_number_masked(self) -> str:
        return self.id_number_hint[:1] + "*" * 16 + self.id_number_hint[-1:]
