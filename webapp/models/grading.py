"""Frozen quality grades (达标) of a closed collection cycle, one row per committee.

Written once when the cycle closes (`webapp.oversight.grading.freeze`); from then on the
cycle's grades are read from here, so a past month never changes when records are
corrected later or the thresholds are retuned. The subdistrict's own row has no
committee (`committee_key` "*"), because a unique key over a NULL column is no key.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.base.ids import new_id
from webapp.models.base import Base
from webapp.base.timeutil import utcnow

SUBDISTRICT_KEY = "*"


class GradeSnapshot(Base):
    __tablename__ = "grade_snapshot"
    __table_args__ = (UniqueConstraint("cycle_id", "committee_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cycle.id"), index=True)
    committee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("committee.id"), default=None, index=True)
    committee_key: Mapped[str] = mapped_column(String(40))  # str(committee_id) or SUBDISTRICT_KEY
    grade: Mapped[str | None] = mapped_column(String(12), default=None)  # enums.Grade; None: nothing to grade
    score: Mapped[float | None] = mapped_column(Float, default=None)
    # Raw counts, percentages, scores, the committee's name and the settings used.
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class CoordinatorSnapshot(Base):
    """A coordinator's figures of a closed collection cycle (houses visited, scans, records
    changed, tasks on time...), written once when the cycle closes, like the grades: the
    coordinators' assessment (协管队伍考核) of a past month never changes afterwards."""

    __tablename__ = "coordinator_snapshot"
    __table_args__ = (UniqueConstraint("cycle_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cycle.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The counts, the user's name then, and the cells they worked (ids) for scoping.
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
