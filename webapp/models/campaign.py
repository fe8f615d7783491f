"""Key-area campaigns (重点区域排查整治): a set of cells or a drawn area, checked by a date.

A campaign is not a collection cycle: it has its own table, so it can never become "the
current cycle" that coverage, grading and the unvisited-task generator pick (they read
`cycle` only). Its houses are those in its cells, or whose point lies in its polygon
(`geo.area`); opening it makes one task per house (`registry.tasks.campaigns`), and closing
it stores its figures in `figures`, which the pages show from then on.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.area import Cell
from webapp.models.base import Base
from webapp.base.timeutil import utcnow

CAMPAIGN_NAME_MAX = 64
CAMPAIGN_NOTE_MAX = 500

campaign_cell = Table(
    "campaign_cell",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True),
    Column("cell_id", ForeignKey("cell.id", ondelete="CASCADE"), primary_key=True),
)


class Campaign(Base):
    __tablename__ = "campaign"

    # An integer: the task key "campaign:<id>:<house uuid>" must fit Task.origin_key (80).
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(CAMPAIGN_NAME_MAX), unique=True)
    note: Mapped[str] = mapped_column(String(CAMPAIGN_NOTE_MAX), default="")
    # The area: the cells in `cells`, or (when set) this GeoJSON Polygon, WGS-84 lon/lat,
    # validated and oriented like a cell boundary. Exactly one of the two is used.
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    starts_on: Mapped[date] = mapped_column()  # visits from this local day on count
    due_on: Mapped[date] = mapped_column()  # the target date; the tasks' due date
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # Set on close: {"cells": [per-cell figures…], "total": {…}, "as_of": iso time}.
    figures: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    cells: Mapped[list[Cell]] = relationship(secondary=campaign_cell, order_by="Cell.code")

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def by_polygon(self) -> bool:
        return self.boundary is not None

    @property
    def key_prefix(self) -> str:
        """The start of every origin_key of this campaign's tasks."""
        return f"campaign:{self.id}:"

    def cell_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(c.id for c in self.cells)
