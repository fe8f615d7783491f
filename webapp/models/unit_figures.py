"""A closed cycle's unit figures (实有单位: units by kind and their employees), one row per cell.

Written once when the cycle closes (`webapp.oversight.unit_figures.freeze`), like the grades:
a unit's employer links have no history of their own, so a past month's figures would
otherwise change whenever a unit closes or a person changes jobs. Per cell, so that every
scope (a cell, a committee's cells, the subdistrict) sums the same rows; units with no house
have `cell_key` "*" and count only for the whole subdistrict.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.base.ids import new_id
from webapp.base.timeutil import utcnow
from webapp.models.base import Base

NO_HOUSE_KEY = "*"


class UnitFigures(Base):
    __tablename__ = "unit_figures"
    __table_args__ = (UniqueConstraint("cycle_id", "cell_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cycle.id"), index=True)
    cell_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cell.id"), default=None)
    cell_key: Mapped[str] = mapped_column(String(40))  # str(cell_id) or NO_HOUSE_KEY: a NULL is no key
    units: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # enums.UnitKind → live units
    employees: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # enums.UnitKind → their employees
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
