"""The organization tree. `path` is materialized (`/C01/C01T03/C01T03V07/`) so a subtree is one prefix query."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.vocabulary import OrgLevel

LEVELS = OrgLevel.codes()


class Organization(Base):
    """One node of the county tree (县级医院, 科室, 乡镇卫生院, 村卫生室)."""

    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("level IN ('county', 'department', 'township', 'village')", name="level"),
        Index("ix_organizations_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("organizations.code"), nullable=True, index=True)
    path: Mapped[str] = mapped_column(String(400))
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
