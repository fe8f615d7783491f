"""WGS-84 ↔ GCJ-02 (the offset datum of Amap/Tencent tiles), for DRAWING only.

Everything stored is WGS-84 (phone GPS, 天地图/CGCS2000). When a GCJ-02 tile provider is
configured (`MAP_TILE_CRS=gcj02`) positions are shifted just before drawing, so they sit on
the right street of the offset tiles. This is the widely published public algorithm
(Krasovsky 1940 ellipsoid constants); the inverse is solved by fixed-point iteration to
millimetres. Outside China (the customary bounding box) positions are returned unchanged,
as those providers do.
"""
from __future__ import annotations

import math

_A = 6378245.0  # Krasovsky 1940 semi-major axis
_EE = 0.00669342162296594323  # its first eccentricity squared


def out_of_china(lon: float, lat: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _transform_lon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def _offset(lon: float, lat: float) -> tuple[float, float]:
    """The GCJ-02 offset (degrees) to add at a WGS-84 position."""
    d_lat = _transform_lat(lon - 105.0, lat - 35.0)
    d_lon = _transform_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    d_lon, d_lat = _offset(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float, *, tolerance_deg: float = 1e-9) -> tuple[float, float]:
    """Inverse by iteration: the offset varies slowly, so a few rounds reach ~0.1 mm."""
    if out_of_china(lon, lat):
        return lon, lat
    w_lon, w_lat = lon, lat
    for _ in range(30):
        g_lon, g_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = g_lon - lon, g_lat - lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if abs(e_lon) < tolerance_deg and abs(e_lat) < tolerance_deg:
            break
    return w_lon, w_lat


def for_tiles(lon: float, lat: float, tile_crs: str | None) -> tuple[float, float]:
    """A stored WGS-84 position as it must be drawn on tiles of `tile_crs` ("wgs84"/"gcj02")."""
    if (tile_crs or "wgs84").lower() == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    return lon, lat
