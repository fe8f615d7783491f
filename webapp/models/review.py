"""Review (审核) of coordinators' registrations and move-outs by the grid lead.

Made by the server only, when a coordinator creates or ends a residency at a house whose
committee has `review_required`. A review is a quality gate, not a hold: the residency
counts in the registry whatever the review's state. Phones pull reviews as children of
their houses; a lead decides (approve, or return with a reason), the coordinator resubmits.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, Synced
from webapp.models.house import House
from webapp.models.person import Person, Residency
from webapp.models.user import User
from webapp.base.timeutil import utcnow

REVIEW_REASON_MAX = 200


class Review(Synced, Base):
    __tablename__ = "review"
    __table_args__ = (
        # One review per residency and kind: a second move-out of the same residency reopens it.
        Index("uq_review_residency_kind", "residency_id", "kind", unique=True,
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
        # The leads' queue: what waits, per cell, oldest first.
        Index("ix_review_waiting", "cell_id", "created_at",
              sqlite_where=text("status != 'approved' AND deleted_at IS NULL"),
              postgresql_where=text("status != 'approved' AND deleted_at IS NULL")),
    )

    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("house.id"), index=True)
    # Copied from the house when the review is made: the cell whose lead was asked.
    cell_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cell.id"), default=None)
    residency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("residency.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    # The person's name when the review was made, for the phones: after a move-out the person
    # leaves the phone's records, yet the lead must see who moved. Erased with the person's
    # other personal data (webapp/registry/retention.py).
    person_name: Mapped[str | None] = mapped_column(String(64), default=None)
    kind: Mapped[str] = mapped_column(String(12))  # enums.ReviewKind
    status: Mapped[str] = mapped_column(String(10), default="pending")  # enums.ReviewStatus
    # Why it was returned (required then); kept after a resubmission unless the coordinator clears it.
    reason: Mapped[str | None] = mapped_column(String(REVIEW_REASON_MAX), default=None)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    house: Mapped[House] = relationship()
    residency: Mapped[Residency] = relationship()
    person: Mapped[Person] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
