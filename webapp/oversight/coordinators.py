"""The coordinators' work per collection cycle (协管队伍考核, seed art. 3.2): houses visited,
the share of visits with the plate scanned and with a GPS fix at the house, unverified
visits, records created and changed, conflicts their phones raised, registrations returned
by review, tasks closed and closed on time.

Figures are the coordinator's whole work in the cycle; a viewer sees the coordinators who are
given, or visited, their cells. Live while the cycle runs; frozen in CoordinatorSnapshot rows
when it closes (with the grades), so a past month never changes. Records created and changed
come from the change log (webapp/registry/changelog.py): versions a user made by any door, the
baseline excluded. Plain SQLAlchemy: no Flask.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Select, and_, distinct, func, select
from sqlalchemy.orm import Session

from geo.cycles import utc_bounds
from geo.house_status import judge_visits
from geo.plausibility import GPS_FAR
from geo.settings import GeoSettings, default_settings
from webapp.models import (Conflict, CoordinatorSnapshot, Cycle, House, RecordVersion, Review, Task, User, Visit,
                           cell_coordinator)
from webapp.models.enums import ReviewStatus, Role, TaskStatus
from webapp.base.timeutil import to_local

COUNTS = ("visits", "houses", "scanned", "gps_verified", "unverified", "created", "changed", "conflicts",
          "returned", "tasks_closed", "tasks_on_time")


@dataclass
class CoordinatorRow:
    user_id: int
    username: str
    name: str
    counts: dict[str, int]
    cells: list[str] = field(default_factory=list)  # ids of the cells they were given or visited

    def share(self, part: str, whole: str = "visits") -> float | None:
        return self.counts[part] / self.counts[whole] if self.counts.get(whole) else None


@dataclass
class CoordinatorReport:
    cycle: Cycle
    rows: list[CoordinatorRow]
    frozen: bool

    @property
    def total(self) -> dict[str, int]:
        return {k: sum(r.counts[k] for r in self.rows) for k in COUNTS}


def _users(session: Session, lo: Any, hi: Any) -> dict[int, set[str]]:
    """Every coordinator who has cells, or visited in the window: user id → cell ids."""
    out: dict[int, set[str]] = {}
    # Annotated: the association table's columns are untyped.
    given: Select[int, uuid.UUID] = (
        select(cell_coordinator.c.user_id, cell_coordinator.c.cell_id).join(User, User.id == cell_coordinator.c.user_id)
        .where(User.role == Role.COORDINATOR))
    for uid, cell_id in session.execute(given):
        out.setdefault(uid, set()).add(str(cell_id))
    # The visit's user is never NULL here (joined to its user), which its column cannot say.
    visited = cast("Select[int, uuid.UUID | None]",
                   select(Visit.user_id, House.cell_id).join(House, House.id == Visit.house_id)
                   .join(User, User.id == Visit.user_id)
                   .where(Visit.deleted_at.is_(None), Visit.visited_at >= lo, Visit.visited_at < hi,
                          User.role == Role.COORDINATOR).distinct())
    for uid, house_cell_id in session.execute(visited):
        cells = out.setdefault(uid, set())
        if house_cell_id is not None:
            cells.add(str(house_cell_id))
    return out


def live(session: Session, cycle: Cycle, settings: GeoSettings | None = None) -> list[CoordinatorRow]:
    """Every coordinator's figures in the cycle, computed now."""
    lo, hi = utc_bounds(cycle)
    workers = _users(session, lo, hi)
    if not workers:
        return []
    ids = list(workers)
    counts: dict[int, dict[str, int]] = {u: dict.fromkeys(COUNTS, 0) for u in ids}

    def put(key: str, rows: Any) -> None:
        for uid, n in rows:
            if uid in counts:
                counts[uid][key] = int(n or 0)

    window = and_(Visit.deleted_at.is_(None), Visit.visited_at >= lo, Visit.visited_at < hi, Visit.user_id.in_(ids))
    put("visits", session.execute(select(Visit.user_id, func.count()).where(window).group_by(Visit.user_id)))
    put("houses", session.execute(select(Visit.user_id, func.count(distinct(Visit.house_id))).where(window)
                                  .group_by(Visit.user_id)))
    put("scanned", session.execute(select(Visit.user_id, func.count()).where(window, Visit.plate_scanned.is_(True))
                                   .group_by(Visit.user_id)))
    # Each visit judged as the coverage map judges it (geo.house_status, in SQL).
    verdicts = judge_visits(session, lo, hi, None, settings or default_settings())
    # The user is set here (IN `ids`), which the column cannot say.
    visits = cast("Select[uuid.UUID, int, float | None]", select(Visit.id, Visit.user_id, Visit.lat).where(window))
    for vid, uid, lat in session.execute(visits):
        reasons = verdicts.get(vid, ())
        if reasons:
            counts[uid]["unverified"] += 1
        if lat is not None and GPS_FAR not in reasons:
            counts[uid]["gps_verified"] += 1
    made = and_(RecordVersion.changed_by_id.in_(ids), RecordVersion.changed_at >= lo, RecordVersion.changed_at < hi,
                RecordVersion.door != "baseline")
    put("created", session.execute(select(RecordVersion.changed_by_id, func.count())
                                   .where(made, RecordVersion.version == 1).group_by(RecordVersion.changed_by_id)))
    put("changed", session.execute(select(RecordVersion.changed_by_id, func.count())
                                   .where(made, RecordVersion.version > 1).group_by(RecordVersion.changed_by_id)))
    put("conflicts", session.execute(select(Conflict.user_id, func.count()).where(
        Conflict.user_id.in_(ids), Conflict.created_at >= lo, Conflict.created_at < hi).group_by(Conflict.user_id)))
    put("returned", session.execute(select(Review.submitted_by_id, func.count()).where(
        Review.submitted_by_id.in_(ids), Review.status == ReviewStatus.RETURNED, Review.deleted_at.is_(None),
        Review.decided_at >= lo, Review.decided_at < hi).group_by(Review.submitted_by_id)))
    closed = and_(Task.closed_by_id.in_(ids), Task.closed_at >= lo, Task.closed_at < hi, Task.deleted_at.is_(None),
                  Task.status.in_((TaskStatus.DONE, TaskStatus.REJECTED)))
    # The closer (IN `ids`) and the closing time (in the window) are set, as above.
    tasks = cast("Select[int, datetime, date | None]",
                 select(Task.closed_by_id, Task.closed_at, Task.due_on).where(closed))
    for uid, closed_at, due_on in session.execute(tasks):
        counts[uid]["tasks_closed"] += 1
        if due_on is None or to_local(closed_at).date() <= due_on:
            counts[uid]["tasks_on_time"] += 1
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    return sorted((CoordinatorRow(uid, users[uid].username, users[uid].display_name, counts[uid],
                                  sorted(workers[uid])) for uid in ids), key=lambda r: r.username)


def _visible(rows: list[CoordinatorRow], cell_ids: frozenset[uuid.UUID] | None) -> list[CoordinatorRow]:
    if cell_ids is None:
        return rows
    wanted = {str(c) for c in cell_ids}
    return [r for r in rows if wanted & set(r.cells)]


def report(session: Session, cycle: Cycle, cell_ids: frozenset[uuid.UUID] | None,
           settings: GeoSettings | None = None) -> CoordinatorReport:
    """The coordinators of these cells (None: all), frozen figures for a closed cycle."""
    snaps = list(session.scalars(select(CoordinatorSnapshot).where(CoordinatorSnapshot.cycle_id == cycle.id)))
    if cycle.closed_at is not None and snaps:
        rows = [CoordinatorRow(s.user_id, s.figures.get("username", ""), s.figures.get("name", ""),
                               {k: int(s.figures.get("counts", {}).get(k, 0)) for k in COUNTS},
                               list(s.figures.get("cells", []))) for s in snaps]
        return CoordinatorReport(cycle, _visible(sorted(rows, key=lambda r: r.username), cell_ids), True)
    return CoordinatorReport(cycle, _visible(live(session, cycle, settings), cell_ids), False)


def freeze(session: Session, cycle: Cycle, settings: GeoSettings | None = None) -> int:
    """Write the cycle's figures once per coordinator (at its close); flush, no commit."""
    if session.scalar(select(CoordinatorSnapshot.id).where(CoordinatorSnapshot.cycle_id == cycle.id).limit(1)):
        return 0
    rows = live(session, cycle, settings)
    for r in rows:
        session.add(CoordinatorSnapshot(cycle_id=cycle.id, user_id=r.user_id, figures={
            "username": r.username, "name": r.name, "counts": r.counts, "cells": r.cells}))
    session.flush()
    return len(rows)


def year(session: Session, y: int, cell_ids: frozenset[uuid.UUID] | None) -> tuple[list[Cycle], list[CoordinatorRow]]:
    """The year's closed cycles (those starting in it) and each coordinator's sums over them."""
    cycles = list(session.scalars(select(Cycle).where(
        Cycle.starts_on >= date(y, 1, 1), Cycle.starts_on <= date(y, 12, 31), Cycle.closed_at.is_not(None))
        .order_by(Cycle.starts_on)))
    sums: dict[int, CoordinatorRow] = {}
    for cycle in cycles:
        for r in report(session, cycle, cell_ids).rows:
            row = sums.setdefault(r.user_id, CoordinatorRow(r.user_id, r.username, r.name, dict.fromkeys(COUNTS, 0)))
            for k in COUNTS:
                row.counts[k] += r.counts[k]
            row.cells = sorted(set(row.cells) | set(r.cells))
    return cycles, sorted(sums.values(), key=lambda r: r.username)


