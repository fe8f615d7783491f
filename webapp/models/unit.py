"""Actual units (实有单位): organisations and workplaces at a house."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, Synced
from webapp.models.house import House


class Unit(Synced, Base):
    __tablename__ = "unit"

    name: Mapped[str | None] = mapped_column(String(100))
    # Not unique in the database: two units with one credit code is a duplicate to review.
    uscc: Mapped[str | None] = mapped_column(String(18), default=None, index=True)
    house_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("house.id"), index=True, default=None)
    kind: Mapped[str] = mapped_column(String(12), default="enterprise")
    # The unit's key in the extract (the police's or the market regulator's list), like a
    # house's external code: an export re-imports onto the same units.
    external_code: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    # Contact persons: [{"name": ..., "phone": ..., "role": ...}].
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    house: Mapped[House | None] = relationship()
