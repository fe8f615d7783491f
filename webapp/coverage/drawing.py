"""Coordinates for drawing: stored WGS-84, shifted to GCJ-02 only when the configured tiles
are offset (Amap/Tencent). Nothing converted here is ever stored."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from geo.coords import for_tiles


def tile_source(url: str) -> str | None:
    """The CSP source for a tile URL template (`https://t{s}.example/...` → `https://*.example`)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    labels = parts.netloc.split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    host = ".".join(labels)
    return None if "{" in host else f"{parts.scheme}://{host}"


def is_shifted(tile_crs: str | None) -> bool:
    return (tile_crs or "wgs84").lower() == "gcj02"


def point(lon: float, lat: float, tile_crs: str | None) -> tuple[float, float]:
    if not is_shifted(tile_crs):
        return lon, lat
    x, y = for_tiles(lon, lat, tile_crs)
    return round(x, 7), round(y, 7)


def geometry(geom: dict[str, Any] | None, tile_crs: str | None) -> dict[str, Any] | None:
    """A GeoJSON Polygon or MultiPolygon with every position shifted for the tiles."""
    if geom is None or not is_shifted(tile_crs):
        return geom

    def walk(node: Any) -> Any:
        if node and isinstance(node[0], (int, float)):
            return list(point(float(node[0]), float(node[1]), tile_crs))
        return [walk(child) for child in node]

    return {**geom, "coordinates": walk(geom.get("coordinates", []))}
