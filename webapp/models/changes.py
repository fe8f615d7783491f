"""The change sequence counter and scope changes, the bookkeeping behind pull."""
from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base


class ChangeCounter(Base):
    """One row. Taking the next number locks it until commit, so numbers follow commit order."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class ScopeChange(Base):
    """A record entering or leaving a cell without itself changing (a person whose residency
    ended, a house moved to another cell): what tells a phone to fetch or evict it."""

    __tablename__ = "scope_change"
    __table_args__ = (
        Index("ix_scope_change_cell_seq", "cell_id", "seq"),
        Index("ix_scope_change_unstamped", "id", sqlite_where=text("seq IS NULL"),
              postgresql_where=text("seq IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    cell_id: Mapped[uuid.UUID] = mapped_column()
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(8))  # "enter" | "leave"
    seq: Mapped[int | None] = mapped_column(BigInteger, default=None)
