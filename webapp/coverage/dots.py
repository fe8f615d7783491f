"""House dots for the map: only the houses of one cell or of the box in view, never a whole
district (~200,000 houses), and each with its status in the cycle."""
from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from flask import url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from geo import plausibility
from geo.coverage import _LOOKBACK as LOOKBACK  # the figures' window: dots must agree with them
from geo.cycles import utc_bounds
from geo.settings import GeoSettings
from webapp.coverage import drawing
from webapp.models import Cycle, House, Visit
from webapp.registry.scope import Scope

# Most dots one answer carries; past it the map asks the user to zoom in.
DOTS_LIMIT = 3000
# GCJ-02 shifts positions by at most ~500 m: widen a box drawn on such tiles by more.
SHIFT_PAD_DEG = 0.01


def _statuses(session: Session, cycle: Cycle, cell_ids: Collection[uuid.UUID],
              settings: GeoSettings) -> dict[uuid.UUID, str]:
    """"visited" or "unverified" per visited house of the cells; absent means unvisited.

    Judged as geo.coverage counts them: a house is verified when one of its visits in the
    cycle passes geo.plausibility, which needs each coordinator's previous visit, wherever
    it was (hence the coordinators' other visits, from a day before the cycle).
    """
    if not cell_ids:
        return {}
    lo, hi = utc_bounds(cycle)
    ids = list(cell_ids)
    workers = (select(Visit.user_id).join(House, Visit.house_id == House.id)
               .where(House.cell_id.in_(ids), Visit.visited_at >= lo, Visit.visited_at < hi))
    rows = session.execute(
        select(Visit.id, Visit.house_id, Visit.user_id, Visit.visited_at, Visit.lat, Visit.lon,
               Visit.accuracy_m, Visit.plate_scanned, House.cell_id, House.lon.label("h_lon"),
               House.lat.label("h_lat"), House.road, House.number, House.building)
        .join(House, Visit.house_id == House.id)
        .where(Visit.deleted_at.is_(None), Visit.visited_at >= lo - LOOKBACK, Visit.visited_at < hi,
               or_(House.cell_id.in_(ids), Visit.user_id.in_(workers)))
    ).all()
    spots = {r.house_id: plausibility.HouseSpot(r.h_lon, r.h_lat, (r.road, r.number, r.building or ""))
             for r in rows}
    reasons = plausibility.check_visits(rows, spots, settings=settings)
    status: dict[uuid.UUID, str] = {}
    for r in rows:
        if r.visited_at < lo or r.cell_id not in cell_ids:
            continue
        if not reasons[r.id]:
            status[r.house_id] = "visited"
        else:
            status.setdefault(r.house_id, "unverified")
    return status


def _dots(session: Session, cycle: Cycle, houses: Sequence[House], tile_crs: str | None,
          settings: GeoSettings) -> list[dict[str, Any]]:
    status = _statuses(session, cycle, {h.cell_id for h in houses if h.cell_id is not None}, settings)
    out = []
    for h in houses:
        if h.lon is None or h.lat is None:
            continue
        lon, lat = drawing.point(h.lon, h.lat, tile_crs)
        out.append({"id": str(h.id), "lon": lon, "lat": lat, "status": status.get(h.id, "unvisited"),
                    "address": h.address, "url": url_for("console.house", house_id=h.id)})
    return out


def _placed() -> Any:
    return (House.deleted_at.is_(None), House.cell_id.is_not(None), House.lon.is_not(None),
            House.lat.is_not(None))


def dots_of_cell(session: Session, cycle: Cycle, cell_id: uuid.UUID, tile_crs: str | None,
                 settings: GeoSettings) -> list[dict[str, Any]]:
    houses = session.scalars(select(House).where(House.cell_id == cell_id, *_placed())).all()
    return _dots(session, cycle, houses, tile_crs, settings)


def dots_in_box(session: Session, cycle: Cycle, scope: Scope, box: tuple[float, float, float, float],
                tile_crs: str | None, settings: GeoSettings) -> tuple[list[dict[str, Any]], bool]:
    """(dots, too_many) for the houses in scope inside the box (drawing coordinates)."""
    west, south, east, north = box
    if drawing.is_shifted(tile_crs):
        # Stored positions are WGS-84: widen the box, the browser clips what falls outside.
        west, south, east, north = (west - SHIFT_PAD_DEG, south - SHIFT_PAD_DEG,
                                    east + SHIFT_PAD_DEG, north + SHIFT_PAD_DEG)
    where = (*_placed(), scope.house_clause(), House.lon.between(west, east), House.lat.between(south, north))
    count = session.scalar(select(func.count()).select_from(House).where(*where)) or 0
    if count > DOTS_LIMIT:
        return [], True
    houses = session.scalars(select(House).where(*where)).all()
    return _dots(session, cycle, houses, tile_crs, settings), False
