"""Tips (大众发现): what residents and leads report about a house, as tasks for its cell."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, Synced
from webapp.models.house import House
from webapp.timeutil import utcnow

TIP_TEXT_MAX = 500


class Tip(Synced, Base):
    """A report to follow up. Coverage counts open tips per cell by `cell_id` and `status`."""

    __tablename__ = "tip"
    __table_args__ = (
        # The coordinators' queue: open tips of a cell, newest first.
        Index("ix_tip_open", "cell_id", "created_at",
              sqlite_where=text("status = 'open' AND deleted_at IS NULL"),
              postgresql_where=text("status = 'open' AND deleted_at IS NULL")),
    )

    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("house.id"), index=True)
    # Copied from the house when the tip is made: the cell that was asked to act on it.
    cell_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cell.id"), default=None)
    kind: Mapped[str] = mapped_column(String(12))  # enums.TipKind
    text: Mapped[str] = mapped_column(String(TIP_TEXT_MAX), default="")
    contact_phone: Mapped[str | None] = mapped_column(String(20), default=None)
    status: Mapped[str] = mapped_column(String(10), default="open")  # enums.TipStatus
    source: Mapped[str] = mapped_column(String(12), default="public")  # enums.TipSource
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # A keyed hash of the sender's address: enough to see a flood from one place, not who.
    client_ip_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    outcome: Mapped[str | None] = mapped_column(String(TIP_TEXT_MAX), default=None)

    house: Mapped[House] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == "open"
