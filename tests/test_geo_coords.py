"""WGS-84 ↔ GCJ-02: published vector, sub-metre round trip inside China, identity outside."""
from __future__ import annotations

import numpy as np
import pytest

from geo.coords import for_tiles, gcj02_to_wgs84, out_of_china, wgs84_to_gcj02
from geo.distance import haversine_m


def test_published_vector() -> None:
    # The public algorithm's widely used test point in Shanghai (Pudong).
    lon, lat = wgs84_to_gcj02(121.5272106, 31.1774276)
    assert lon == pytest.approx(121.531541859215, abs=1e-9)
    assert lat == pytest.approx(31.17530398364597, abs=1e-9)


def test_offset_is_hundreds_of_metres_in_songjiang() -> None:
    shifted = wgs84_to_gcj02(121.23, 31.03)
    assert 50 < haversine_m(121.23, 31.03, *shifted) < 700


@pytest.mark.parametrize("seed", range(3))
def test_round_trip_inside_china_is_below_one_metre(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for lon, lat in zip(rng.uniform(75, 135, 300), rng.uniform(18, 53, 300), strict=True):
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
        assert haversine_m(lon, lat, *back) < 1.0


@pytest.mark.parametrize("point", [(2.35, 48.85), (-74.0, 40.7), (151.2, -33.9), (139.69, 60.0)])
def test_outside_china_unchanged(point: tuple[float, float]) -> None:
    assert out_of_china(*point)
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point


def test_for_tiles_converts_only_for_gcj02() -> None:
    assert for_tiles(121.23, 31.03, "wgs84") == (121.23, 31.03)
    assert for_tiles(121.23, 31.03, None) == (121.23, 31.03)
    assert for_tiles(121.23, 31.03, "GCJ02") == wgs84_to_gcj02(121.23, 31.03)
