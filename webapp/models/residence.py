"""The committee's check of a house as a legal stable residence (合法稳定住所核实), and its
decision for one applicant (认定): a certificate (证明) with a number and a check code that the
public plate page verifies, or a recorded refusal with its reason (不予出具).

Kept as an append-only history: who checked, when, on what basis, what they found and what
the rules said at that moment, so a later refusal or acceptance can be explained.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.base.ids import new_id
from webapp.models.base import Base
from webapp.models.user import User
from webapp.base.timeutil import utcnow


class ResidenceCheck(Base):
    __tablename__ = "residence_check"
    __table_args__ = (Index("ix_residence_check_house_at", "house_id", "checked_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("house.id"))
    result: Mapped[str] = mapped_column(String(12))  # enums.ResidenceCheckResult
    # A decision for an applicant living there (None: a check of the house alone).
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), default=None, index=True)
    basis: Mapped[str | None] = mapped_column(String(20), default=None)  # enums.ResidenceBasis
    # A certificate's number (unique) and check code, printed on it and verified at /h/<code>.
    certificate_no: Mapped[str | None] = mapped_column(String(20), default=None, unique=True)
    check_code: Mapped[str | None] = mapped_column(String(8), default=None)
    # The reasons the rules gave when the check was recorded, as "zh / en" lines.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    checked_by: Mapped[User | None] = relationship(foreign_keys=[checked_by_id])
