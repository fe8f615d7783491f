"""Each house's status in a collection cycle: visited, visited but unverified, or unvisited.

The one place that judges a house: the coverage figures count its answers per cell
(`unverified`) and the map draws them as dots, so the two always agree.

A visited house is verified when one of its live visits in the cycle passes
`geo.plausibility`; the "too fast" rule there needs each coordinator's previous visit,
wherever it was, hence the coordinators' other visits and a look a day back before the cycle.
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from geo import plausibility
from geo.cycles import utc_bounds
from geo.settings import GeoSettings, default_settings
from webapp.models import Cycle, House, Visit

__all__ = ["LOOKBACK", "UNVERIFIED", "UNVISITED", "VISITED", "HouseStatus", "house_statuses",
           "statuses_between", "unverified_per_cell"]

VISITED, UNVERIFIED, UNVISITED = "visited", "unverified", "unvisited"
# How far before the cycle to look for a coordinator's previous visit: after a day apart,
# walking covers 144 km, more than any subdistrict.
LOOKBACK = timedelta(days=1)


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
    rows = _visits(session, lo, hi, ids)
    spots = {r.house_id: plausibility.HouseSpot(r.h_lon, r.h_lat, (r.road, r.number, r.building or ""))
             for r in rows}
    reasons = plausibility.check_visits(rows, spots, settings=settings)
    scope = set(ids) if ids is not None else None
    out: dict[uuid.UUID, HouseStatus] = {}
    for r in rows:
        if (r.visited_at < lo or r.cell_id is None or r.h_deleted_at is not None
                or (scope is not None and r.cell_id not in scope)):
            continue  # a predecessor only, or a house not asked about
        if not reasons[r.id]:
            out[r.house_id] = HouseStatus(r.cell_id, VISITED)
        elif r.house_id not in out:
            out[r.house_id] = HouseStatus(r.cell_id, UNVERIFIED)
    return out


def _visits(session: Session, lo: datetime, hi: datetime, ids: list[uuid.UUID] | None) -> list[Any]:
    """The cycle's visits (with a day before it) that the judgement needs."""
    cols = select(Visit.id, Visit.house_id, Visit.user_id, Visit.visited_at, Visit.lat, Visit.lon,
                  Visit.accuracy_m, Visit.plate_scanned, House.cell_id, House.lon.label("h_lon"),
                  House.lat.label("h_lat"), House.road, House.number, House.building,
                  House.deleted_at.label("h_deleted_at")).join(House, Visit.house_id == House.id)
    window = and_(Visit.deleted_at.is_(None), Visit.visited_at >= lo - LOOKBACK, Visit.visited_at < hi)
    if ids is None:
        return list(session.execute(cols.where(window)).all())
    # Every visit, wherever it was, of the coordinators who worked these cells: the "too fast"
    # rule needs each visit's predecessor. Two indexed queries, not one with OR.
    workers = list(session.scalars(
        select(Visit.user_id).distinct().join(House, Visit.house_id == House.id)
        .where(House.cell_id.in_(ids), Visit.visited_at >= lo, Visit.visited_at < hi,
               Visit.user_id.is_not(None))))
    by_worker = session.execute(cols.where(window, Visit.user_id.in_(workers))).all() if workers else []
    anonymous = session.execute(cols.where(window, House.cell_id.in_(ids), Visit.user_id.is_(None))).all()
    return [*by_worker, *anonymous]
