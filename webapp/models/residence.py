"""The committee's check of a house as a legal stable residence (合法稳定住所核实).

Kept as an append-only history: who checked, when, what they found and what the rules
said at that moment, so a later refusal or acceptance can be explained.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base
from webapp.models.user import User
from webapp.base.timeutil import utcnow


class ResidenceCheck(Base):
    __tablename__ = "residence_check"
    __table_args__ = (Index("ix_residence_check_house_at", "house_id", "checked_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("house.id"))
    result: Mapped[str] = mapped_column(String(12))  # enums.ResidenceCheckResult
    # The reasons the rules gave when the check was recorded, as "zh / en" lines.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    checked_by: Mapped[User | None] = relationship(foreign_keys=[checked_by_id])
