"""Figure 4: coverage of the whole district against one raw GROUP BY of the same numbers, and
house→cell assignment of 1,000,000 points with geo.assign.locate (its vectorised core).

The page's coverage also judges every visit of the cycle (geo.house_status: the
`unverified` figure), which no GROUP BY can do; so it is measured twice, with and without
that pass (judge_visits=False), both against the same raw statement."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import Engine, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from bench.stats import Clock, Sample, alternate
from geo.assign import locate
from geo.coverage import cycle_coverage
from geo.cycles import current_cycle, utc_bounds
from webapp.models import Cell, Cycle, House, Person, Residency, Visit
from webapp.registry.demo import REFERENCE_DATE

SAME = ("houses", "visited", "visited_scanned", "occupied", "persons", "new", "departed")


def raw_coverage(session: Session, cycle: Cycle) -> dict[Any, tuple[int, ...]]:
    """One statement: per-house visit and residency aggregates joined to houses, grouped by cell."""
    lo, hi = utc_bounds(cycle)
    start, end = cycle.starts_on, cycle.ends_on
    visits = (select(Visit.house_id, func.max(case((Visit.plate_scanned.is_(True), 1), else_=0)).label("scanned"))
              .where(Visit.deleted_at.is_(None), Visit.visited_at >= lo, Visit.visited_at < hi)
              .group_by(Visit.house_id).subquery())
    is_open = and_(Residency.start_date <= end, or_(Residency.end_date.is_(None), Residency.end_date > end))
    deleted = select(Person.id).where(Person.deleted_at.is_not(None))
    res = (select(Residency.house_id,
                  func.max(case((is_open, 1), else_=0)).label("occ"),
                  func.sum(case((is_open, 1), else_=0)).label("persons"),
                  func.sum(case((Residency.start_date.between(start, end), 1), else_=0)).label("new"),
                  func.sum(case((Residency.end_date.between(start, end), 1), else_=0)).label("departed"))
           .where(Residency.deleted_at.is_(None), Residency.person_id.not_in(deleted))
           .group_by(Residency.house_id).subquery())
    stmt = (select(House.cell_id, func.count(),
                   func.count(visits.c.house_id), func.coalesce(func.sum(visits.c.scanned), literal(0)),
                   func.coalesce(func.sum(res.c.occ), 0), func.coalesce(func.sum(res.c.persons), 0),
                   func.coalesce(func.sum(res.c.new), 0), func.coalesce(func.sum(res.c.departed), 0))
            .select_from(House).outerjoin(visits, visits.c.house_id == House.id)
            .outerjoin(res, res.c.house_id == House.id)
            .where(House.deleted_at.is_(None), House.cell_id.is_not(None)).group_by(House.cell_id))
    return {row[0]: tuple(int(x) for x in row[1:]) for row in session.execute(stmt)}


@dataclass
class CoverageFigure:
    cells: int
    app: Sample  # cycle_coverage as the page asks for it: every figure
    same: Sample  # cycle_coverage without the visit-plausibility pass: the raw side's numbers
    raw: Sample
    agree: bool


def coverage(engine: Engine, repeats: int = 5) -> CoverageFigure:
    with Session(engine) as s:
        current_cycle(s, REFERENCE_DATE, kind="month")
        s.commit()
    state: dict[str, Any] = {}

    def app(_i: int, judge_visits: bool = True) -> float:
        with Session(engine) as s, Clock() as clock:
            report = cycle_coverage(s, current_cycle(s, REFERENCE_DATE, kind="month"), judge_visits=judge_visits)
        state["app" if judge_visits else "same"] = {c.cell_id: tuple(getattr(c, k) for k in SAME)
                                                    for c in report.cells if c.houses}
        return clock.seconds

    def raw(_i: int) -> float:
        with Session(engine) as s:
            cycle = current_cycle(s, REFERENCE_DATE, kind="month")
            with Clock() as clock:
                state["raw"] = raw_coverage(s, cycle)
        return clock.seconds

    samples = alternate({"app": app, "same": lambda i: app(i, judge_visits=False), "raw": raw}, repeats)
    return CoverageFigure(len(state["app"]), samples["app"], samples["same"], samples["raw"],
                          state["app"] == state["raw"] == state["same"])


def assignment(engine: Engine, points: int = 1_000_000, repeats: int = 5) -> Sample:
    """Points per second through geo.assign.locate (random points over the district's extent)."""
    with Session(engine) as s:
        geoms = [shape(b) for b in s.scalars(select(Cell.boundary).order_by(Cell.code))]
    minx, miny, maxx, maxy = shapely.union_all(geoms).bounds
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(minx, maxx, points), rng.uniform(miny, maxy, points)
    current = np.full(points, -1, dtype=np.int64)

    def once(_i: int) -> float:
        with Clock() as clock:
            locate(geoms, lon, lat, current)
        return points / clock.seconds

    return alternate({"locate": once}, repeats)["locate"]
