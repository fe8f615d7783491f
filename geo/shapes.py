"""GeoJSON polygons in and out of shapely, and a local metric frame for areas.

Stored boundaries are GeoJSON Polygons in WGS-84 (lon, lat). Areas and overlaps are measured
after an equirectangular projection around the data's mean latitude: plenty for cells a few
hundred metres across, and no projection library needed.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from geo.distance import metres_per_degree

Ring = list[list[float]]


def polygon(geometry: dict[str, Any] | None) -> shapely.Polygon | None:
    """A stored (already validated) GeoJSON Polygon as shapely, or None."""
    if not geometry or geometry.get("type") != "Polygon" or not geometry.get("coordinates"):
        return None
    shell, *holes = geometry["coordinates"]
    return shapely.Polygon(shell, holes)


def polygons(geometries: list[dict[str, Any] | None]) -> npt.NDArray[np.object_]:
    return np.array([polygon(g) for g in geometries] or [], dtype=object)


def _signed_area(ring: Ring) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:], strict=False)) / 2


def rfc7946_rings(rings: list[Ring]) -> list[Ring]:
    """Right-hand rule (RFC 7946 §3.1.6): exterior counter-clockwise, holes clockwise.

    Positions are kept exactly as given (only reversed where needed), so that an export
    re-imports unchanged.
    """
    out = []
    for i, ring in enumerate(rings):
        ccw = _signed_area(ring) > 0
        want_ccw = i == 0
        out.append([list(p) for p in (ring if ccw == want_ccw else ring[::-1])])
    return out


class MetricFrame:
    """lon/lat ↔ local metres around a reference point."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.kx, self.ky = metres_per_degree(lat0)

    @classmethod
    def around(cls, geoms: npt.NDArray[np.object_]) -> MetricFrame:
        present = geoms[~shapely.is_missing(geoms)] if len(geoms) else geoms
        if not len(present):
            return cls(0.0, 0.0)
        x0, y0, x1, y1 = shapely.total_bounds(present)
        return cls((x0 + x1) / 2, (y0 + y1) / 2)

    def to_metres(self, geoms: Any) -> Any:
        return shapely.transform(geoms, lambda c: (c - (self.lon0, self.lat0)) * (self.kx, self.ky))

    def to_lonlat(self, geoms: Any) -> Any:
        return shapely.transform(geoms, lambda c: c / (self.kx, self.ky) + (self.lon0, self.lat0))

    def point_lonlat(self, geom_m: shapely.Geometry) -> tuple[float, float]:
        """A representative point of a metric geometry, as rounded lon/lat."""
        p = shapely.point_on_surface(geom_m)
        return (round(p.x / self.kx + self.lon0, 7), round(p.y / self.ky + self.lat0, 7))

    def bbox_lonlat(self, geom_m: shapely.Geometry) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = shapely.bounds(geom_m)
        return (round(x0 / self.kx + self.lon0, 7), round(y0 / self.ky + self.lat0, 7),
                round(x1 / self.kx + self.lon0, 7), round(y1 / self.ky + self.lat0, 7))
