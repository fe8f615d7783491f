"""House dots for the map: only the houses of one cell or of the box in view, never a whole
district (~200,000 houses), and each with its status in the cycle."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.house_status import UNVISITED, house_statuses
from geo.settings import GeoSettings
from webapp.coverage import drawing
from webapp.models import Cycle, House
from webapp.registry.scope import Scope

# Most dots one answer carries; past it the map asks the user to zoom in.
DOTS_LIMIT = 3000
# GCJ-02 shifts positions by at most ~500 m: widen a box drawn on such tiles by more.
SHIFT_PAD_DEG = 0.01


def _dots(session: Session, cycle: Cycle, houses: Sequence[House], tile_crs: str | None,
          settings: GeoSettings) -> list[dict[str, Any]]:
    # The same judgement the coverage figures count (geo.house_status), for these houses' cells.
    status = house_statuses(session, cycle, {h.cell_id for h in houses if h.cell_id is not None}, settings)
    out = []
    for h in houses:
        if h.lon is None or h.lat is None:
            continue
        lon, lat = drawing.point(h.lon, h.lat, tile_crs)
        judged = status.get(h.id)
        out.append({"id": str(h.id), "lon": lon, "lat": lat, "status": judged.status if judged else UNVISITED,
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
