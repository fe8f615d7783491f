"""The coverage map coloured by a key-area campaign's progress instead of the cycle's: its
cells (of the user's scope) by the share of the area's houses visited since it started, its
drawn area, and its houses as dots (visited since the start or not)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from geo.address_order import building_key, natural_key
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.coverage import drawing
from webapp.coverage.bands import band_for
from webapp.coverage.columns import percent
from webapp.coverage.dots import DOTS_LIMIT
from webapp.models import Campaign, Cell, House, Visit
from webapp.registry.scope import Scope
from webapp.oversight.tasks.campaigns import CellProgress, area_houses, touches
from webapp.base.timeutil import local_day_bounds_utc
from webapp.query_args import whole_number

NUMBERS: tuple[tuple[str, Any], ...] = (
    ("houses", _l("Houses")),
    ("visited", _l("Visited since the start")),
    ("visited_scanned", _l("Visited, plate scanned")),
    ("tasks_open", _l("Tasks open")),
    ("tasks_closed", _l("Tasks closed")),
    ("changed", _l("Registry changed")),
)


def chosen(session: Session, scope: Scope) -> Campaign | None:
    """The campaign asked for (?campaign=<id>), if it concerns the user's cells; 404 otherwise."""
    raw = request.args.get("campaign")
    if not raw:
        return None
    number = whole_number(raw)
    if number is None:
        abort(404)
    campaign = session.get(Campaign, number)
    if campaign is None or (scope.cell_ids is not None and not touches(session, campaign, scope.cell_ids)):
        abort(404)
    return campaign


def cell_json(c: CellProgress) -> dict[str, Any]:
    return {"id": str(c.cell_id), "code": c.cell_code, "name": c.cell_name, "committee": c.committee_name,
            **{k: getattr(c, k) for k, _label in NUMBERS}, "ratio": round(c.ratio, 4), "percent": percent(c.ratio),
            "band": band_for(c.houses, c.ratio).key}


def cells_json(session: Session, cells: list[CellProgress], crs: str | None) -> list[dict[str, Any]]:
    ids = [c.cell_id for c in cells if c.cell_id is not None]
    outlines = dict(session.execute(select(Cell.id, Cell.boundary).where(Cell.id.in_(ids))).all()) if ids else {}
    return [{**cell_json(c), "boundary": drawing.geometry(outlines.get(c.cell_id), crs)}
            for c in cells if c.cell_id is not None]


def area_json(campaign: Campaign, crs: str | None) -> dict[str, Any]:
    return {"id": campaign.id, "name": campaign.name, "starts_on": campaign.starts_on.isoformat(),
            "due_on": campaign.due_on.isoformat(), "closed": campaign.is_closed,
            "boundary": drawing.geometry(campaign.boundary, crs)}


def _window(campaign: Campaign) -> tuple[datetime, datetime | None]:
    return local_day_bounds_utc(campaign.starts_on)[0], campaign.closed_at


def _visited(session: Session, campaign: Campaign, house_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not house_ids:
        return set()
    since, until = _window(campaign)
    where = [Visit.house_id.in_(house_ids), Visit.deleted_at.is_(None), Visit.visited_at >= since]
    if until is not None:
        where.append(Visit.visited_at <= until)
    return set(session.scalars(select(Visit.house_id).where(*where).distinct()))


def _in_scope(campaign_houses: list[tuple[uuid.UUID, uuid.UUID | None]], scope: Scope,
              cell_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    return [h for h, c in campaign_houses
            if c is not None and scope.covers_cell(c) and (cell_id is None or c == cell_id)]


def dots(session: Session, campaign: Campaign, scope: Scope, crs: str | None, *, cell_id: uuid.UUID | None = None,
         box: tuple[float, float, float, float] | None = None) -> tuple[list[dict[str, Any]], bool]:
    """(dots, too_many): the area's houses of the scope (of one cell, or inside a box)."""
    ids = _in_scope(area_houses(session, campaign), scope, cell_id)
    if not ids:
        return [], False
    where: list[Any] = [House.id.in_(ids), House.lon.is_not(None), House.lat.is_not(None)]
    if box is not None:
        west, south, east, north = box
        if drawing.is_shifted(crs):
            pad = 0.01  # GCJ-02 shifts by at most ~500 m: the browser clips the rest
            west, south, east, north = west - pad, south - pad, east + pad, north + pad
        where += [House.lon.between(west, east), House.lat.between(south, north)]
    if (session.scalar(select(func.count()).select_from(House).where(*where)) or 0) > DOTS_LIMIT:
        return [], True
    houses = session.scalars(select(House).where(*where)).all()
    seen = _visited(session, campaign, [h.id for h in houses])
    out = []
    for h in houses:
        lon, lat = drawing.point(h.lon, h.lat, crs)  # type: ignore[arg-type]
        out.append({"id": str(h.id), "lon": lon, "lat": lat, "status": "visited" if h.id in seen else "unvisited",
                    "address": h.address, "url": url_for("console.house", house_id=h.id)})
    return out, False


def unvisited(session: Session, campaign: Campaign, scope: Scope, cell_id: uuid.UUID) -> list[dict[str, Any]]:
    """The area's houses of the cell not visited since the campaign started, in address order."""
    ids = _in_scope(area_houses(session, campaign), scope, cell_id)
    seen = _visited(session, campaign, ids)
    houses = session.scalars(select(House).where(House.id.in_([i for i in ids if i not in seen]))).all() if ids else []
    houses = sorted(houses, key=lambda h: (tuple(natural_key(p) for p in building_key(h)), natural_key(h.unit),
                                           h.floor or 0, natural_key(h.room), str(h.id)))
    return [{"id": str(h.id), "address": h.address, "url": url_for("console.house", house_id=h.id)} for h in houses]


def state_line(campaign: Campaign) -> str:
    if campaign.is_closed:
        return _("Figures frozen when the campaign closed.")
    return _("Houses of the area visited since %(start)s; target date %(due)s.",
             start=campaign.starts_on.isoformat(), due=campaign.due_on.isoformat())
