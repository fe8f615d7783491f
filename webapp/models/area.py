"""Committees (居委会) and their grid cells (网格)."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, Synced
from webapp.models.user import User

# Which coordinators work which cells; a cell may have several and a coordinator several cells.
cell_coordinator = Table(
    "cell_coordinator",
    Base.metadata,
    Column("cell_id", ForeignKey("cell.id", ondelete="CASCADE"), primary_key=True),
    # Indexed too: every push and pull asks for the cells of its coordinator (scope_for), and
    # the primary key starts with the cell.
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Committee(Synced, Base):
    __tablename__ = "committee"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # Coordinators' new registrations and move-outs here wait for a grid lead's review (审核).
    review_required: Mapped[bool] = mapped_column(default=False, server_default=false())

    cells: Mapped[list[Cell]] = relationship(back_populates="committee", order_by="Cell.code")


class Cell(Synced, Base):
    __tablename__ = "cell"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    committee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("committee.id"), index=True)
    # GeoJSON Polygon geometry in WGS-84 (RFC 7946 axis order: lon, lat).
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    grid_lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)

    committee: Mapped[Committee] = relationship(back_populates="cells")
    coordinators: Mapped[list[User]] = relationship(secondary=cell_coordinator)
    grid_lead: Mapped[User | None] = relationship(foreign_keys=[grid_lead_id])
