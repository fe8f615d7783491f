"""Coverage of a collection cycle, per cell and per committee (不遗漏).

Figures for a cell in a cycle (local days → UTC bounds):
- houses: live houses in the cell;
- visited: of those, houses with at least one live visit inside the cycle;
- visited_scanned: of the visited, those with a visit whose plate was scanned;
- unverified: of the visited, houses none of whose visits in the cycle passes
  `geo.plausibility` (they stay in "visited", and are shown apart);
- occupied / persons: houses with an open residency / open residencies, as at the cycle's
  last day (start on or before it, no end or an end after it);
- new / departed: residencies that started / ended inside the cycle;
- changed: persons edited in the cycle (version > 1, changed_at inside it) who lived in the
  cell at some time in the cycle;
- open_tasks: open tasks that ask someone to look at something (declarations, reports,
  move-outs to confirm, rule flags, permits), not the planned visits of the cycle or of a
  campaign (sources `unvisited`, `campaign`: one per house, already measured by "visited" —
  counted here they would swamp the backlog grade); open_conflicts: conflicts not yet resolved.

Everything is counted over all cells at once with a few GROUP BY queries (the visits'
plausibility too: judged in SQL, geo.house_status), so it stays fast for 200,000 houses and
1,000+ cells.
A closed cycle is read from its frozen `CoverageSnapshot` rows instead.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, Subquery, and_, case, distinct, exists, func, literal, or_, select, true
from sqlalchemy.orm import Session

from geo.address_order import building_key, natural_key
from geo.cycles import current_cycle, utc_bounds
from geo.house_status import verdicts_per_house
from geo.settings import GeoSettings, default_settings
from webapp.models import Cell, Committee, Conflict, Cycle, House, Person, Residency, Task, Visit
from webapp.models.coverage import CoverageSnapshot
from webapp.models.enums import TaskSource
from webapp.base.timeutil import utcnow

PLANNED_VISITS = (TaskSource.UNVISITED, TaskSource.CAMPAIGN)

__all__ = [
    "FIGURES", "CellCoverage", "CommitteeCoverage", "CoverageReport", "close_cycle", "current_cycle",
    "cycle_coverage", "unvisited_houses",
]

FIGURES = ("houses", "visited", "visited_scanned", "unverified", "occupied", "persons", "new", "changed",
           "departed", "open_tasks", "open_conflicts")


class _Ratio:
    houses: int
    visited: int

    @property
    def ratio(self) -> float:
        """Visited share of houses; 0 when the cell has no houses."""
        return self.visited / self.houses if self.houses else 0.0

    def figures(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in FIGURES}


@dataclass
class CellCoverage(_Ratio):
    cell_id: uuid.UUID
    cell_code: str
    cell_name: str
    committee_id: uuid.UUID
    committee_name: str
    houses: int = 0
    visited: int = 0
    visited_scanned: int = 0
    unverified: int = 0
    occupied: int = 0
    persons: int = 0
    new: int = 0
    changed: int = 0
    departed: int = 0
    open_tasks: int = 0
    open_conflicts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cell_id": str(self.cell_id), "committee_id": str(self.committee_id),
                "ratio": round(self.ratio, 4)}


@dataclass
class CommitteeCoverage(_Ratio):
    """The sum over a committee's cells (of those asked for)."""

    committee_id: uuid.UUID
    committee_name: str
    cells: int = 0
    houses: int = 0
    visited: int = 0
    visited_scanned: int = 0
    unverified: int = 0
    occupied: int = 0
    persons: int = 0
    new: int = 0
    changed: int = 0
    departed: int = 0
    open_tasks: int = 0
    open_conflicts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "committee_id": str(self.committee_id), "ratio": round(self.ratio, 4)}


@dataclass
class CoverageReport:
    cycle: Cycle
    cells: list[CellCoverage] = field(default_factory=list)
    committees: list[CommitteeCoverage] = field(default_factory=list)
    frozen: bool = False  # read from the snapshot of a closed cycle

    @property
    def total(self) -> CommitteeCoverage:
        """Everything asked for, as one row (committee fields empty)."""
        out = CommitteeCoverage(uuid.UUID(int=0), "", cells=len(self.cells))
        for c in self.cells:
            for k in FIGURES:
                setattr(out, k, getattr(out, k) + getattr(c, k))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"cycle": {"name": self.cycle.name, "kind": self.cycle.kind,
                          "starts_on": self.cycle.starts_on.isoformat(), "ends_on": self.cycle.ends_on.isoformat(),
                          "closed": self.cycle.is_closed},
                "frozen": self.frozen, "cells": [c.to_dict() for c in self.cells],
                "committees": [c.to_dict() for c in self.committees], "total": self.total.to_dict()}


def cycle_coverage(session: Session, cycle: Cycle, *, cell_ids: frozenset[uuid.UUID] | None = None,
                   settings: GeoSettings | None = None, judge_visits: bool = True) -> CoverageReport:
    """Per cell and per committee figures; `cell_ids` limits them to those cells (a scope).
    `judge_visits=False` skips the plausibility pass (live `unverified` stays 0): grading."""
    if cycle.closed_at is not None:
        cells = _from_snapshot(session, cycle, cell_ids)
    else:
        cells = _live(session, cycle, cell_ids, settings or default_settings(), judge_visits)
    return CoverageReport(cycle=cycle, cells=cells, committees=_committees(cells), frozen=cycle.closed_at is not None)


def _committees(cells: Iterable[CellCoverage]) -> list[CommitteeCoverage]:
    out: dict[uuid.UUID, CommitteeCoverage] = {}
    for c in cells:
        row = out.setdefault(c.committee_id, CommitteeCoverage(c.committee_id, c.committee_name))
        row.cells += 1
        for k in FIGURES:
            setattr(row, k, getattr(row, k) + getattr(c, k))
    return list(out.values())  # in the order of their first cell's code


def _live(session: Session, cycle: Cycle, cell_ids: frozenset[uuid.UUID] | None,
          settings: GeoSettings, judge_visits: bool = True) -> list[CellCoverage]:
    stmt = (select(Cell.id, Cell.code, Cell.name, Committee.id, Committee.name)
            .join(Committee, Cell.committee_id == Committee.id)
            .where(Cell.deleted_at.is_(None)).order_by(Cell.code))
    if cell_ids is not None:
        stmt = stmt.where(Cell.id.in_(list(cell_ids)))
    cells = {row[0]: CellCoverage(*row) for row in session.execute(stmt)}
    if not cells:
        return []
    ids = list(cells) if cell_ids is not None else None

    def in_cells(col: Any) -> Any:
        # Unscoped, no "IS NOT NULL": rows without a cell fall in a group _put ignores, and
        # SQLite then scans the covering index instead of reading rows at random.
        return col.in_(ids) if ids is not None else true()

    lo, hi = utc_bounds(cycle)
    live_house = and_(House.deleted_at.is_(None), in_cells(House.cell_id))
    end, start = cycle.ends_on, cycle.starts_on
    # Deleted persons are few: a list of them beats joining every residency to its person.
    deleted_people = select(Person.id).where(Person.deleted_at.is_not(None))
    live_res = and_(Residency.deleted_at.is_(None), Residency.person_id.not_in(deleted_people))
    is_open = and_(Residency.start_date <= end, or_(Residency.end_date.is_(None), Residency.end_date > end))
    verdicts = verdicts_per_house(session, lo, hi, ids, settings) if judge_visits else None
    for cell_id, *figures in session.execute(_per_cell(lo, hi, start, end, live_house, live_res, is_open, ids,
                                                       verdicts)):
        _put(cells, cell_id, **dict(zip(("houses", "visited", "visited_scanned", "unverified", "occupied", "persons",
                                         "new", "departed"), figures, strict=True)))

    during = and_(Residency.start_date <= end, or_(Residency.end_date.is_(None), Residency.end_date >= start))
    # Persons edited in the cycle are few: find them first (a scan of person), then their homes.
    edited = select(Person.id).where(Person.version > 1, Person.changed_at >= lo, Person.changed_at < hi)
    for cell_id, n in session.execute(
            select(House.cell_id, func.count(distinct(Residency.person_id)))
            .select_from(Residency).join(House, Residency.house_id == House.id)
            .where(Residency.person_id.in_(edited), live_res, live_house, during)
            .group_by(House.cell_id)):
        _put(cells, cell_id, changed=n)

    for cell_id, n in session.execute(
            select(Task.cell_id, func.count())
            .where(Task.status == "open", Task.deleted_at.is_(None), Task.source.not_in(PLANNED_VISITS),
                   in_cells(Task.cell_id))
            .group_by(Task.cell_id)):
        _put(cells, cell_id, open_tasks=n)

    for cell_id, n in session.execute(
            select(Conflict.cell_id, func.count()).where(Conflict.resolved_at.is_(None), in_cells(Conflict.cell_id))
            .group_by(Conflict.cell_id)):
        _put(cells, cell_id, open_conflicts=n)
    return list(cells.values())


def _per_cell(lo: Any, hi: Any, start: date, end: date, live_house: Any, live_res: Any, is_open: Any,
              ids: list[uuid.UUID] | None, verdicts: Subquery | None
              ) -> Select[uuid.UUID | None, int, int, int, int, int, int, int, int]:
    """houses, visited, visited_scanned, unverified, occupied, persons, new and departed per
    cell, in one statement: visits and residencies are first summed per house, then houses per
    cell (at 200,000 houses within 1.5x of the benchmark's raw GROUP BY on both backends:
    BENCHMARKS.md). The visits per house are the judge's `verdicts` when given (the cycle's
    visits read once, not once to count and again to judge), else counted here, unjudged."""
    visits = (select(Visit.house_id, func.max(case((Visit.plate_scanned.is_(True), 1), else_=0)).label("scanned"),
                     literal(1).label("verified"))
              .where(Visit.deleted_at.is_(None), Visit.visited_at >= lo, Visit.visited_at < hi))
    res = select(Residency.house_id,
                 func.max(case((is_open, 1), else_=0)).label("occupied"),
                 func.sum(case((is_open, 1), else_=0)).label("persons"),
                 func.sum(case((Residency.start_date.between(start, end), 1), else_=0)).label("new"),
                 func.sum(case((Residency.end_date.between(start, end), 1), else_=0)).label("departed")
                 ).where(live_res)
    if ids is not None:  # a scope: sum only its houses' rows
        houses = select(House.id).where(House.cell_id.in_(ids))
        visits, res = visits.where(Visit.house_id.in_(houses)), res.where(Residency.house_id.in_(houses))
    v = verdicts if verdicts is not None else visits.group_by(Visit.house_id).subquery()
    r = res.group_by(Residency.house_id).subquery()
    visited = func.count(v.c.house_id)
    return (select(House.cell_id, func.count(), visited, func.coalesce(func.sum(v.c.scanned), 0),
                   visited - func.coalesce(func.sum(v.c.verified), 0),
                   *(func.coalesce(func.sum(c), 0) for c in (r.c.occupied, r.c.persons, r.c.new, r.c.departed)))
            .select_from(House).outerjoin(v, v.c.house_id == House.id).outerjoin(r, r.c.house_id == House.id)
            .where(live_house).group_by(House.cell_id))


def _put(cells: dict[uuid.UUID, CellCoverage], cell_id: uuid.UUID | None, **figures: int) -> None:
    row = cells.get(cell_id) if cell_id is not None else None
    if row is not None:  # a row of a deleted cell, or of houses without one, is not shown
        for k, v in figures.items():
            setattr(row, k, int(v or 0))


def _from_snapshot(session: Session, cycle: Cycle, cell_ids: frozenset[uuid.UUID] | None) -> list[CellCoverage]:
    stmt = select(CoverageSnapshot).where(CoverageSnapshot.cycle_id == cycle.id)
    if cell_ids is not None:
        stmt = stmt.where(CoverageSnapshot.cell_id.in_(list(cell_ids)))
    out = []
    for snap in session.scalars(stmt):
        f = snap.figures
        out.append(CellCoverage(snap.cell_id, f["cell_code"], f["cell_name"], snap.committee_id, f["committee_name"],
                                **{k: int(f.get(k, 0)) for k in FIGURES}))
    return sorted(out, key=lambda c: c.cell_code)


def close_cycle(session: Session, cycle: Cycle, by_user_id: int | None, *,
                settings: GeoSettings | None = None) -> None:
    """Freeze the cycle's figures for every live cell; the caller commits."""
    if cycle.closed_at is not None:
        raise ValueError(f"cycle {cycle.name} is already closed (周期已关闭)")
    session.flush()
    for c in _live(session, cycle, None, settings or default_settings()):
        session.add(CoverageSnapshot(
            cycle_id=cycle.id, cell_id=c.cell_id, committee_id=c.committee_id, created_by_id=by_user_id,
            figures={"cell_code": c.cell_code, "cell_name": c.cell_name, "committee_name": c.committee_name,
                     **c.figures()},
        ))
    cycle.closed_at = utcnow()
    session.flush()


def unvisited_houses(session: Session, cycle: Cycle, cell_id: uuid.UUID) -> list[House]:
    """Live houses of the cell without a live visit in the cycle, in address order."""
    lo, hi = utc_bounds(cycle)
    # A probe of each house's visits (index house_id, visited_at), not `NOT IN` the whole
    # district's visits of the cycle (rescanned per house on PostgreSQL past work_mem).
    visited = exists().where(Visit.house_id == House.id, Visit.deleted_at.is_(None), Visit.visited_at >= lo,
                             Visit.visited_at < hi)
    houses = session.scalars(
        select(House).where(House.cell_id == cell_id, House.deleted_at.is_(None), ~visited)
    ).all()
    return sorted(houses, key=lambda h: (tuple(natural_key(p) for p in building_key(h)), natural_key(h.unit),
                                         h.floor or 0, natural_key(h.room), str(h.id)))


def today_cycle(session: Session, today: date | None = None, *, settings: GeoSettings | None = None) -> Cycle:
    """`current_cycle` for the local date now (Asia/Shanghai)."""
    from webapp.base.timeutil import local_today

    return current_cycle(session, today or local_today(), settings=settings)
