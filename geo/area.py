"""An area chosen for a key-area campaign: a set of cells, or a polygon drawn on the map.

`read_polygon` checks a drawn or pasted GeoJSON polygon the way a cell import does (WGS-84
lon/lat, closed rings, valid, not huge), with problems in Chinese and English.
`houses_in_area` lists the live houses of the area: those placed in the cells, or whose
point lies in the polygon (on its edge counts as in), one vectorised predicate for all.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.issues import Issue
from geo.parse import _geometry, area_m2
from geo.settings import GeoSettings, default_settings
from geo.shapes import polygon
from webapp.models import House

# Area-specific wording; every other problem reads as the cell import's (geo.issues).
_MESSAGES = {
    "empty": ("请在地图上画出区域，或粘贴 GeoJSON 多边形", "Draw the area on the map or paste a GeoJSON polygon"),
    "not_one_polygon": ("区域须是一个 GeoJSON 多边形（Polygon，或只含一个多边形的 Feature/FeatureCollection）",
                        "The area must be one GeoJSON Polygon (or a Feature or FeatureCollection holding one)"),
    "too_large": ("区域面积过大：{detail}", "Area too large: {detail}"),
}


@dataclass(frozen=True)
class AreaProblem:
    kind: str
    message_zh: str
    message_en: str
    point: tuple[float, float] | None = None  # lon, lat: where to look

    @classmethod
    def of(cls, issue: Issue) -> AreaProblem:
        if issue.kind in _MESSAGES:
            zh, en = (m.format(detail=issue.detail) for m in _MESSAGES[issue.kind])
        else:
            zh, en = issue.message_zh, issue.message_en
        return cls(issue.kind, zh, en, issue.point)


def _unwrap(data: Any) -> Any:
    """The geometry inside a Feature or a one-feature FeatureCollection."""
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or len(features) != 1:
            return None
        data = features[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    return data


def read_polygon(data: str | dict[str, Any] | None, settings: GeoSettings | None = None
                 ) -> tuple[dict[str, Any] | None, list[AreaProblem]]:
    """(normalised GeoJSON Polygon, []) or (None, problems)."""
    settings = settings or default_settings()
    if data is None or (isinstance(data, str) and not data.strip()):
        return None, [AreaProblem.of(Issue("empty"))]
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            return None, [AreaProblem.of(Issue("not_json", detail=str(exc)[:200]))]
    geometry = _unwrap(data)
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        return None, [AreaProblem.of(Issue("not_one_polygon"))]
    issues: list[Issue] = []
    boundary, geom = _geometry(0, None, geometry, issues)
    if boundary is None or geom is None:
        return None, [AreaProblem.of(i) for i in issues]
    area = area_m2(geom)
    limit = settings.cell_max_area_km2 * 1e6
    if area > limit:
        p = geom.representative_point()
        return None, [AreaProblem.of(Issue("too_large", detail=f"{area / 1e6:.2f} km² > {settings.cell_max_area_km2:g} km²",
                                           point=(round(p.x, 7), round(p.y, 7))))]
    return boundary, []


def houses_in_area(session: Session, *, cell_ids: Collection[uuid.UUID] = (),
                   boundary: dict[str, Any] | None = None) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    """(house id, cell id) of every live house in the area: in the polygon when one is
    given (by the house's point; houses without one are not in it), else in the cells."""
    live = House.deleted_at.is_(None)
    if boundary is None:
        if not cell_ids:
            return []
        return [(h, c) for h, c in session.execute(
            select(House.id, House.cell_id).where(live, House.cell_id.in_(list(cell_ids))))]
    shape = polygon(boundary)
    if shape is None:
        return []
    x0, y0, x1, y1 = shape.bounds
    rows = session.execute(select(House.id, House.cell_id, House.lon, House.lat).where(
        live, House.lon.between(x0, x1), House.lat.between(y0, y1))).all()
    if not rows:
        return []
    lon = np.fromiter((r[2] for r in rows), dtype=float, count=len(rows))
    lat = np.fromiter((r[3] for r in rows), dtype=float, count=len(rows))
    shapely.prepare(shape)
    inside = shapely.intersects_xy(shape, lon, lat)
    return [(rows[i][0], rows[i][1]) for i in np.flatnonzero(inside).tolist()]
