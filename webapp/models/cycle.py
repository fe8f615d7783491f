"""Collection cycles (采集周期): named, fixed periods whose figures freeze when they close."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.base.ids import new_id
from webapp.models.base import Base
from webapp.base.timeutil import utcnow


class Cycle(Base):
    __tablename__ = "cycle"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # e.g. "2026-11" or "2026Q4"
    # month or quarter; key-area campaigns are `Campaign` rows, never cycles (never "current").
    kind: Mapped[str] = mapped_column(String(12), default="month")
    starts_on: Mapped[date] = mapped_column()  # first day, Asia/Shanghai
    ends_on: Mapped[date] = mapped_column()  # last day, inclusive
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the cycle closes; from then on its figures are read from frozen snapshots.
    closed_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None
