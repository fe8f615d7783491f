"""Reading a GeoJSON FeatureCollection of cells, checking each feature on its own.

Checks across features (duplicates, overlaps, gaps) are in `geo.topology`; users and
committees against the database in `geo.cells`.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import shapely

from geo.distance import metres_per_degree
from geo.issues import Issue
from geo.shapes import rfc7946_rings
from webapp.validation.text import storable

# RFC 7946 drops "crs"; older files may still name one. Only lon/lat WGS-84 is accepted.
_WGS84_CRS = {"urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:ogc::crs84", "crs84", "wgs84"}
_POINT_IN_REASON = re.compile(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)")
_UNSTORABLE = "characters that cannot be stored (NUL, a lone surrogate)"
LIMITS = {"code": 20, "name": 64, "committee_code": 20, "committee_name": 64}


@dataclass
class CellFeature:
    index: int
    code: str
    name: str
    committee_code: str
    committee_name: str | None
    boundary: dict[str, Any] | None  # normalised GeoJSON Polygon (RFC 7946 orientation)
    geom: shapely.Polygon | None  # lon/lat
    # None when the property is absent: the import then leaves that field as it is.
    grid_lead: str | None = None
    has_grid_lead: bool = False
    coordinators: list[str] | None = None
    issues: list[Issue] = field(default_factory=list)


def load(data: str | bytes | dict[str, Any]) -> tuple[list[CellFeature], list[Issue]]:
    """Every feature that could be read, and every problem found on its own."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            # RecursionError: absurdly nested arrays, which no GeoJSON needs.
            return [], [Issue("not_json", detail=str(exc)[:200])]
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(
        data.get("features"), list
    ):
        return [], [Issue("not_feature_collection")]
    issues: list[Issue] = []
    crs = data.get("crs")
    if crs is not None:
        named = crs.get("properties") if isinstance(crs, dict) else None
        # A "crs" whose properties are not an object names nothing: refused, not a crash.
        name = str(named.get("name", "")) if isinstance(named, dict) else str(crs)
        if name.lower() not in _WGS84_CRS:
            issues.append(Issue("crs_not_wgs84", detail=name))
            return [], issues
    features = []
    for index, item in enumerate(data["features"]):
        feature = _feature(index, item)
        issues.extend(feature.issues if isinstance(feature, CellFeature) else feature)
        if isinstance(feature, CellFeature):
            features.append(feature)
    return features, issues


def _text(props: dict[str, Any], key: str, required: bool, issues: list[Issue], index: int,
          code: str | None) -> str | None:
    value = props.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            issues.append(Issue("missing_property", index, code, detail=key))
        return None
    if not isinstance(value, str) or len(value.strip()) > LIMITS[key]:
        issues.append(Issue("bad_property", index, code, detail=f"{key}: text of at most {LIMITS[key]} characters"))
        return None
    if not storable(value):
        issues.append(Issue("bad_property", index, code, detail=f"{key}: {_UNSTORABLE}"))
        return None
    return value.strip()


def _feature(index: int, item: Any) -> CellFeature | list[Issue]:
    if not isinstance(item, dict) or item.get("type") != "Feature":
        return [Issue("not_feature", index)]
    props = item.get("properties") or {}
    issues: list[Issue] = []
    if not isinstance(props, dict):
        return [Issue("bad_property", index, detail="properties must be an object")]
    code = _text(props, "code", True, issues, index, None)
    name = _text(props, "name", True, issues, index, code)
    committee_code = _text(props, "committee_code", True, issues, index, code)
    committee_name = _text(props, "committee_name", False, issues, index, code)
    lead = props.get("grid_lead")
    if lead is not None and not (isinstance(lead, str) and storable(lead)):
        # Usernames are looked up: a NUL in one failed the query on PostgreSQL.
        issues.append(Issue("bad_property", index, code, detail="grid_lead: a username"))
        lead = None
    coordinators = props.get("coordinators")
    if coordinators is not None and (
        not isinstance(coordinators, list) or not all(isinstance(u, str) and storable(u) for u in coordinators)
    ):
        issues.append(Issue("bad_property", index, code, detail="coordinators: a list of usernames"))
        coordinators = None
    boundary, geom = _geometry(index, code, item.get("geometry"), issues)
    return CellFeature(
        index=index, code=code or "", name=name or "", committee_code=committee_code or "",
        committee_name=committee_name, boundary=boundary, geom=geom,
        grid_lead=lead or None if isinstance(lead, str | None) else None, has_grid_lead="grid_lead" in props,
        coordinators=list(coordinators) if coordinators is not None else None, issues=issues,
    )


def _geometry(index: int, code: str | None, geometry: Any, issues: list[Issue]) -> tuple[
        dict[str, Any] | None, shapely.Polygon | None]:
    if geometry is None:
        issues.append(Issue("no_geometry", index, code))
        return None, None
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        issues.append(Issue("not_polygon", index, code, detail=str(kind)))
        return None, None
    rings = geometry.get("coordinates")
    if not isinstance(rings, list) or not rings:
        issues.append(Issue("bad_coordinates", index, code, detail="a Polygon needs a list of rings"))
        return None, None
    clean: list[list[list[float]]] = []
    for r, ring in enumerate(rings):
        checked = _ring(index, code, r, ring, issues)
        if checked is None:
            return None, None
        clean.append(checked)
    rings_ok = rfc7946_rings(clean)
    geom = shapely.Polygon(rings_ok[0], rings_ok[1:])
    reason = shapely.is_valid_reason(geom)
    if reason != "Valid Geometry":
        m = _POINT_IN_REASON.search(reason)
        point = (round(float(m.group(1)), 7), round(float(m.group(2)), 7)) if m else None
        issues.append(Issue("invalid_polygon", index, code, detail=reason, point=point,
                            bbox=_bbox(geom)))
        return None, None
    return {"type": "Polygon", "coordinates": rings_ok}, geom


def _ring(index: int, code: str | None, r: int, ring: Any, issues: list[Issue]) -> list[list[float]] | None:
    if not isinstance(ring, list) or len(ring) < 4:
        issues.append(Issue("bad_coordinates", index, code, detail=f"ring {r}: at least 4 positions"))
        return None
    out = []
    for k, pos in enumerate(ring):
        if (not isinstance(pos, list) or len(pos) not in (2, 3)
                or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in pos)):
            issues.append(Issue("bad_coordinates", index, code, detail=f"ring {r} position {k}: [lon, lat]"))
            return None
        lon, lat = float(pos[0]), float(pos[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            hint = " (lat/lon swapped?)" if -90 <= lon <= 90 and -180 <= lat <= 180 else ""
            issues.append(Issue("out_of_range", index, code, detail=f"[{pos[0]}, {pos[1]}]{hint}",
                                point=(lon, lat)))
            return None
        # Keep the numbers as written (ints too), so that an export re-imports unchanged.
        out.append([pos[0], pos[1]])
    if out[0] != out[-1]:
        issues.append(Issue("ring_not_closed", index, code, detail=f"ring {r}", point=(out[0][0], out[0][1])))
        return None
    return out


def _bbox(geom: shapely.Geometry) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = shapely.bounds(geom)
    return (round(float(x0), 7), round(float(y0), 7), round(float(x1), 7), round(float(y1), 7))


def area_m2(geom: shapely.Polygon) -> float:
    """Area in m², in a frame around the polygon's own latitude."""
    kx, ky = metres_per_degree(shapely.centroid(geom).y)
    return float(shapely.area(geom)) * kx * ky
