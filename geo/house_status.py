"""Each house's status in a collection cycle: visited, visited but unverified, or unvisited.

The one place that judges a house: the coverage figures count its answers per cell
(`unverified`) and the map draws them as dots, so the two always agree.

A visited house is verified when one of its live visits in the cycle passes
`geo.plausibility`; the "too fast" rule there needs each coordinator's previous visit,
wherever it was, hence the coordinators' other visits and a look a day back before the cycle.
The rules are applied in SQL, set-based (a window function finds each predecessor), with the
same arithmetic as `plausibility.check_visits`; tests/test_geo_judge.py checks they agree.
Judged in Python, the ~40,000 visits of a district's month took seconds (BENCHMARKS.md).
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import (
    ColumnElement, Float, Integer, Select, Subquery, and_, case, cast, extract, func, literal, null, select, union_all,
)
from sqlalchemy.orm import Session

from geo import plausibility
from geo.cycles import utc_bounds
from geo.distance import _RAD, EARTH_RADIUS_M
from geo.settings import GeoSettings, default_settings
from webapp.models import Cycle, House, User, Visit

__all__ = ["LOOKBACK", "UNVERIFIED", "UNVISITED", "VISITED", "HouseStatus", "house_statuses", "judge_visits",
           "statuses_between", "unverified_per_cell", "verdicts_per_house"]

VISITED, UNVERIFIED, UNVISITED = "visited", "unverified", "unvisited"
# How far before the cycle to look for a coordinator's previous visit: after a day apart,
# walking covers 144 km, more than any subdistrict.
LOOKBACK = timedelta(days=1)


class _Window(TypedDict):
    """`.over(...)`'s keywords: each coordinator's visits in time order."""
    partition_by: ColumnElement[Any]
    order_by: tuple[ColumnElement[Any], ...]


@dataclass(frozen=True)
class HouseStatus:
    cell_id: uuid.UUID
    status: str  # VISITED or UNVERIFIED; a house without one is UNVISITED


def house_statuses(session: Session, cycle: Cycle, cell_ids: Collection[uuid.UUID] | None = None,
                   settings: GeoSettings | None = None) -> dict[uuid.UUID, HouseStatus]:
    """Status of every visited live house of the cells (all cells: None) in the cycle; a
    house not in the answer is unvisited."""
    lo, hi = utc_bounds(cycle)
    return statuses_between(session, lo, hi, cell_ids, settings or default_settings())


def unverified_per_cell(statuses: dict[uuid.UUID, HouseStatus]) -> dict[uuid.UUID, int]:
    """Per cell: visited houses none of whose visits in the cycle is plausible."""
    return dict(Counter(s.cell_id for s in statuses.values() if s.status == UNVERIFIED))


def statuses_between(session: Session, lo: datetime, hi: datetime, cell_ids: Collection[uuid.UUID] | None,
                     settings: GeoSettings) -> dict[uuid.UUID, HouseStatus]:
    """`house_statuses` for the UTC bounds [lo, hi) of a cycle."""
    ids = list(cell_ids) if cell_ids is not None else None
    if ids is not None and not ids:
        return {}
    per_house = _per_house(session, lo, hi, ids, settings)
    return {house_id: HouseStatus(cell_id, VISITED if verified else UNVERIFIED)
            for house_id, cell_id, verified, _scanned in session.execute(per_house)}


def verdicts_per_house(session: Session, lo: datetime, hi: datetime, cell_ids: Collection[uuid.UUID] | None,
                       settings: GeoSettings) -> Subquery | None:
    """One row per judged live house visited in [lo, hi): house_id, cell_id, verified (0/1:
    one of its visits is plausible) and scanned (0/1: one had its plate scanned). Coverage
    joins it into its per-cell statement, so the cycle's visits are read once (None: no
    cells asked for)."""
    ids = list(cell_ids) if cell_ids is not None else None
    if ids is not None and not ids:
        return None
    return _per_house(session, lo, hi, ids, settings).subquery("verdicts")


def judge_visits(session: Session, lo: datetime, hi: datetime, cell_ids: Collection[uuid.UUID] | None,
                 settings: GeoSettings) -> dict[uuid.UUID, tuple[str, ...]]:
    """Each judged visit's reasons to doubt it, as the database finds them: the set-based
    twin of `geo.plausibility.check_visits` over the same visits (compared in the tests)."""
    ids = list(cell_ids) if cell_ids is not None else None
    if ids is not None and not ids:
        return {}
    j = _judged(session, lo, hi, ids, settings)
    verdicts: Select[uuid.UUID, int, int, int] = select(j.c.id, j.c.typed, j.c.gps_far, j.c.too_fast)
    out: dict[uuid.UUID, tuple[str, ...]] = {}
    for vid, typed, far, fast in session.execute(verdicts):
        out[vid] = tuple(r for r, on in ((plausibility.TYPED, typed), (plausibility.GPS_FAR, far),
                                         (plausibility.TOO_FAST, fast)) if on)
    return out


def _per_house(session: Session, lo: datetime, hi: datetime, ids: list[uuid.UUID] | None,
               settings: GeoSettings) -> Select[uuid.UUID, uuid.UUID, int, int]:
    """(house_id, cell_id, verified 0/1, scanned 0/1) of every judged live house visited in [lo, hi)."""
    j = _judged(session, lo, hi, ids, settings)
    ok = case((and_(j.c.typed == 0, j.c.gps_far == 0, j.c.too_fast == 0), 1), else_=0)
    scanned = case((j.c.typed == 0, 1), else_=0)
    where = [j.c.visited_at >= lo, j.c.cell_id.is_not(None), j.c.h_deleted_at.is_(None)]
    if ids is not None:
        where.append(j.c.cell_id.in_(ids))  # the coordinators' visits elsewhere were predecessors only
    return (select(j.c.house_id, j.c.cell_id, func.max(ok).label("verified"), func.max(scanned).label("scanned"))
            .where(*where)
            .group_by(j.c.house_id, j.c.cell_id))


def _judged(session: Session, lo: datetime, hi: datetime, ids: list[uuid.UUID] | None,
            settings: GeoSettings) -> Subquery:
    """The window's visits (with a day before it), each with its three verdicts as 0/1,
    computed in SQL exactly as `geo.plausibility` does in Python: the same haversine
    (sin, cos, asin of the database's maths library), each coordinator's previous visit by
    LAG over (visited_at, id), the seconds between them from whole microseconds."""
    dialect = session.get_bind().dialect.name
    # SQLite's two-argument max/min are scalar; PostgreSQL spells them greatest/least.
    greatest, least = (func.greatest, func.least) if dialect == "postgresql" else (func.max, func.min)
    cols = (Visit.id, Visit.house_id, Visit.user_id, Visit.visited_at, Visit.lat, Visit.lon, Visit.accuracy_m,
            Visit.plate_scanned, House.cell_id, House.lon.label("h_lon"), House.lat.label("h_lat"),
            House.road, House.number, func.coalesce(House.building, "").label("building"),
            House.deleted_at.label("h_deleted_at"))
    base = select(*cols).join(House, Visit.house_id == House.id)
    window = and_(Visit.deleted_at.is_(None), Visit.visited_at >= lo - LOOKBACK, Visit.visited_at < hi)
    workers: Select[Any]
    if ids is None:
        workers = select(User.id)
        anonymous = base.where(window, Visit.user_id.is_(None))
    else:
        # Every visit, wherever it was, of the coordinators who worked these cells (the "too
        # fast" rule needs each visit's predecessor), and the anonymous ones in the cells.
        workers = (select(Visit.user_id).join(House, Visit.house_id == House.id)
                   .where(House.cell_id.in_(ids), Visit.visited_at >= lo, Visit.visited_at < hi,
                          Visit.user_id.is_not(None)))
        anonymous = base.where(window, House.cell_id.in_(ids), Visit.user_id.is_(None))
    s = settings
    # The coordinators' visits named by IN, not IS NOT NULL: SQLite then reads them by
    # ix_visit_user_at, a range per coordinator, in the window's order, and does not sort the
    # cycle's visits (a fifth of judging at scale 40); IS NOT NULL read the index's whole history.
    c = _own_tests(base.where(window, Visit.user_id.in_(workers)).subquery("v"), s, least).c
    order: _Window = {"partition_by": c.user_id, "order_by": (c.visited_at, c.id)}
    w = select(
        c.id, c.house_id, c.cell_id, c.visited_at, c.h_deleted_at, c.user_id, c.typed, c.gps_far, c.x, c.y,
        func.lag(c.x).over(**order).label("px"), func.lag(c.y).over(**order).label("py"),
        func.lag(c.visited_at).over(**order).label("prev_at"),
        case((and_(func.lag(c.road).over(**order) == c.road, func.lag(c.number).over(**order) == c.number,
                   func.lag(c.building).over(**order) == c.building), 1), else_=0).label("same"),
    ).subquery("w")
    walk = _haversine(w.c.px, w.c.py, w.c.x, w.c.y, least)
    same_m = literal(float(s.walking_same_building_m))
    # max(0, walk - same_m) as Python has it; one haversine per row (a CASE repeating it made
    # SQLite compute it up to three times).
    walked = case((w.c.same == 1, greatest(walk - same_m, 0.0)), else_=walk)
    seconds = cast(_micros(w.c.visited_at, dialect) - _micros(w.c.prev_at, dialect), Float) / literal(1_000_000.0)
    fast = and_(w.c.user_id.is_not(None), w.c.prev_at.is_not(None), w.c.px.is_not(None), w.c.x.is_not(None),
                walked > literal(s.walking_speed_kmh / 3.6) * seconds)
    a = _own_tests(anonymous.subquery("va"), s, least).c
    return union_all(
        select(w.c.id, w.c.house_id, w.c.cell_id, w.c.visited_at, w.c.h_deleted_at, w.c.typed, w.c.gps_far,
               case((fast, 1), else_=0).label("too_fast")),
        # A visit without a coordinator (user_id NULL) follows no one: never too fast.
        select(a.id, a.house_id, a.cell_id, a.visited_at, a.h_deleted_at, a.typed, a.gps_far,
               literal(0).label("too_fast")),
    ).subquery("judged")


def _own_tests(v: Subquery, s: GeoSettings, least: Any) -> Subquery:
    """Each visit on its own, before any window (typed, GPS too far, where it happened), so the
    window sorts, when it must, narrow rows."""
    c = v.c
    has_spot = and_(c.h_lon.is_not(None), c.h_lat.is_not(None))
    has_fix = and_(c.lon.is_not(None), c.lat.is_not(None))
    return select(
        c.id, c.house_id, c.cell_id, c.visited_at, c.h_deleted_at, c.user_id, c.road, c.number, c.building,
        case((c.plate_scanned.is_(True), 0), else_=1).label("typed"),
        case((and_(has_spot, has_fix, _haversine(c.lon, c.lat, c.h_lon, c.h_lat, least)
                   > func.coalesce(c.accuracy_m, 0.0) + literal(float(s.visit_gps_margin_m))), 1),
             else_=0).label("gps_far"),
        # Where the visit happened: its house's location, else its own GPS fix.
        case((has_spot, c.h_lon), (has_fix, c.lon), else_=null()).label("x"),
        case((has_spot, c.h_lat), (has_fix, c.lat), else_=null()).label("y"),
    ).subquery("p")


def _haversine(lon1: Any, lat1: Any, lon2: Any, lat2: Any, least: Any) -> Any:
    """`geo.distance.haversine_m` as a SQL expression, operation for operation. `least` is
    the dialect's two-argument minimum: as a CASE, the root (and its sines) was computed
    twice per row."""
    rad = literal(_RAD)
    p1, p2 = lat1 * rad, lat2 * rad
    dp, dl = p2 - p1, (lon2 - lon1) * rad
    a = func.power(func.sin(dp / 2.0), 2.0) + func.cos(p1) * func.cos(p2) * func.power(func.sin(dl / 2.0), 2.0)
    return literal(2 * EARTH_RADIUS_M) * func.asin(least(func.sqrt(a), 1.0))


def _micros(at: Any, dialect: str) -> Any:
    """A UTC time as whole microseconds since 1970 (exact: differences of them are too)."""
    if dialect == "postgresql":
        return extract("epoch", at) * 1_000_000  # numeric: exact
    # SQLite keeps naive UTC text, "YYYY-MM-DD HH:MM:SS.ffffff".
    return cast(func.strftime("%s", at), Integer) * 1_000_000 + cast(func.substr(at, 21, 6), Integer)
