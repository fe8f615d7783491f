"""Request counters shared by every app worker (rate limits live in the database)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base


class RateCounter(Base):
    """How many hits `key` made in the fixed window starting at `window_start`."""

    __tablename__ = "rate_counter"
    # Pruning deletes by age across all keys.
    __table_args__ = (Index("ix_rate_counter_window_start", "window_start"),)

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class LoginFailure(Base):
    """Failed logins on one account name from one client network (webapp/auth/delays.py).

    `key` is a keyed hash of both, so the table names neither the account nor the address;
    unknown account names get rows too, exactly like real ones, or the delays would tell
    which names exist.
    """

    __tablename__ = "login_failure"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # Pruning deletes by age.
    last_failure_at: Mapped[datetime] = mapped_column(index=True)
    # Tries from that network on that account are refused until then (growing delays).
    blocked_until: Mapped[datetime | None] = mapped_column(default=None)
