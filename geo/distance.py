"""Distances on the ground in metres, for a subdistrict-sized area (a few km).

Haversine for single distances; an equirectangular projection around a reference latitude
for arrays (its error over 10 km at Shanghai's latitude is far below a metre).
"""
from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
_RAD = math.pi / 180.0


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = lat1 * _RAD, lat2 * _RAD
    dp, dl = p2 - p1, (lon2 - lon1) * _RAD
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def metres_per_degree(lat0: float) -> tuple[float, float]:
    """(metres per degree of longitude, per degree of latitude) near latitude lat0."""
    k = EARTH_RADIUS_M * _RAD
    return k * math.cos(lat0 * _RAD), k


def project_xy(lon: npt.ArrayLike, lat: npt.ArrayLike, lon0: float, lat0: float) -> npt.NDArray[np.float64]:
    """Equirectangular x/y metres around (lon0, lat0); shape (n, 2)."""
    kx, ky = metres_per_degree(lat0)
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return np.column_stack(((lon_a - lon0) * kx, (lat_a - lat0) * ky))


def unproject_xy(xy: npt.ArrayLike, lon0: float, lat0: float) -> npt.NDArray[np.float64]:
    kx, ky = metres_per_degree(lat0)
    a = np.asarray(xy, dtype=float).reshape(-1, 2)
    return np.column_stack((a[:, 0] / kx + lon0, a[:, 1] / ky + lat0))
