"""Past versions of the registry's records: what each person, house and unit looked like after
every committed change, who made it and through which door.

Written by the database session itself just before commit (webapp/registry/changelog.py), for
every row the transaction wrote, by whatever path (console form, phone push, import, merge,
conflict resolution, purge): no write path can forget it. The snapshot holds personal data:
shown through the privacy policy only, and erased by the PIPL purge (`erased_at`).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base
from webapp.base.timeutil import utcnow


class RecordVersion(Base):
    __tablename__ = "record_version"
    __table_args__ = (
        Index("ix_record_version_record", "record_type", "record_id", "version"),
        # The coordinators' figures: records created and changed by a user in a cycle.
        Index("ix_record_version_user_at", "changed_by_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    record_type: Mapped[str] = mapped_column(String(12))  # person | house | unit
    record_id: Mapped[uuid.UUID] = mapped_column()
    version: Mapped[int] = mapped_column()
    changed_at: Mapped[datetime] = mapped_column()
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # Through which door the change came (webapp.registry.changelog.DOORS) and which one:
    # a phone's device id, a conflict's id, the console page or the command.
    door: Mapped[str] = mapped_column(String(12))
    door_ref: Mapped[str | None] = mapped_column(String(80), default=None)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Every column of the row after the change (less id, version and bookkeeping); None once
    # erased with the record's personal data (webapp/registry/retention.py).
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    erased_at: Mapped[datetime | None] = mapped_column(default=None)
