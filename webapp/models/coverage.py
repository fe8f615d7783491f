"""Frozen coverage figures of a closed collection cycle, one row per cell.

Written once when a cycle closes (`geo.coverage.close_cycle`); from then on the cycle's
figures are read from here, so past months never change when houses move or visits are
edited later. Names are copied into `figures` for the same reason.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.base.ids import new_id
from webapp.models.base import Base
from webapp.models.house import House
from webapp.models.person import Person, Residency
from webapp.models.visit import Visit
from webapp.base.timeutil import utcnow


class CoverageSnapshot(Base):
    __tablename__ = "coverage_snapshot"
    __table_args__ = (UniqueConstraint("cycle_id", "cell_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cycle.id"))
    cell_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cell.id"), index=True)
    committee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("committee.id"), index=True)
    # {"cell_code", "cell_name", "committee_name", "houses", "visited", …}: see geo.coverage.
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


# Indexes the coverage figures need to stay fast at district scale (200,000+ houses): SQLite
# has no hash join, so each GROUP BY runs as index-only scans and probes instead of
# random reads of whole rows. Declared here, next to the feature that needs them.
Index("ix_house_coverage", House.cell_id, House.deleted_at, House.id)
Index("ix_residency_coverage", Residency.house_id, Residency.deleted_at, Residency.start_date,
      Residency.end_date, Residency.person_id)
Index("ix_visit_visited_at", Visit.visited_at)
# Deleted persons are few: their list comes from this small partial index, not a table scan.
Index("ix_person_deleted", Person.id, sqlite_where=text("deleted_at IS NOT NULL"),
      postgresql_where=text("deleted_at IS NOT NULL"))
# Persons edited in a cycle ("changed": version > 1): a range over the edited ones only. A
# plain index on changed_at also held every person created in the cycle, each read from the
# table to check its version: after a month's import, all of them (0.1 s at 674,000 persons).
Index("ix_person_edited", Person.changed_at, sqlite_where=text("version > 1"), postgresql_where=text("version > 1"))
