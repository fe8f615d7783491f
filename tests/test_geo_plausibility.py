"""Visit plausibility at and around its thresholds."""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from geo.distance import EARTH_RADIUS_M
from geo.plausibility import GPS_FAR, TOO_FAST, TYPED, HouseSpot, check_visits
from geo.settings import GeoSettings

S = GeoSettings(visit_gps_margin_m=50, walking_speed_kmh=6, walking_same_building_m=30)
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
LON, LAT = 121.23, 31.03


def north(metres: float) -> float:
    """The latitude `metres` due north of LAT (haversine along a meridian is exact)."""
    return LAT + math.degrees(metres / EARTH_RADIUS_M)


@dataclass
class V:
    house_id: uuid.UUID
    visited_at: datetime = T0
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    plate_scanned: bool = True
    user_id: int | None = 1
    id: uuid.UUID = field(default_factory=uuid.uuid4)


H1, H2, H3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
HOUSES = {
    H1: HouseSpot(LON, LAT, ("路", "1", "1")),
    H2: HouseSpot(LON, north(1000), ("路", "9", "1")),  # another building 1 km north
    H3: HouseSpot(LON, north(20), ("路", "1", "1")),  # same building, other entrance 20 m away
}


def reasons(*visits: V) -> list[tuple[str, ...]]:
    out = check_visits(visits, HOUSES, settings=S)
    return [out[v.id] for v in visits]


def test_scanned_visit_at_the_door_is_verified() -> None:
    assert reasons(V(H1, lat=LAT, lon=LON, accuracy_m=10)) == [()]


def test_typed_plate_is_unverified() -> None:
    assert reasons(V(H1, lat=LAT, lon=LON, accuracy_m=10, plate_scanned=False)) == [(TYPED,)]


@pytest.mark.parametrize(("metres", "accuracy", "far"), [
    (59.5, 10, False), (60.5, 10, True),  # limit = accuracy 10 + margin 50
    (49.5, None, False), (50.5, None, True),  # no accuracy reported: margin only
    (129.0, 80, False), (131.0, 80, True),
])
def test_gps_distance_around_accuracy_plus_margin(metres: float, accuracy: float | None, far: bool) -> None:
    got = reasons(V(H1, lat=north(metres), lon=LON, accuracy_m=accuracy))
    assert got == [(GPS_FAR,) if far else ()]


def test_no_gps_or_no_house_location_is_not_gps_far() -> None:
    nowhere = uuid.uuid4()
    out = check_visits([V(H1), V(nowhere, lat=0.0, lon=0.0, user_id=2)],
                       {**HOUSES, nowhere: HouseSpot(None, None, ("x", "1", ""))}, settings=S)
    assert all(r == () for r in out.values())


# 1000 m at 6 km/h (1.6667 m/s) takes exactly 600 s.
@pytest.mark.parametrize(("seconds", "fast"), [(590, True), (599, True), (601, False), (900, False)])
def test_speed_between_buildings(seconds: int, fast: bool) -> None:
    first, second = V(H1), V(H2, visited_at=T0 + timedelta(seconds=seconds))
    assert reasons(first, second) == [(), (TOO_FAST,) if fast else ()]


def test_speed_is_per_coordinator() -> None:
    a, b = V(H1, user_id=1), V(H2, user_id=2, visited_at=T0 + timedelta(seconds=10))
    assert reasons(a, b) == [(), ()]


def test_order_of_input_does_not_matter() -> None:
    first, second = V(H1), V(H2, visited_at=T0 + timedelta(seconds=60))
    assert reasons(second, first) == [(TOO_FAST,), ()]


@pytest.mark.parametrize(("seconds", "fast"), [(0, False), (1, False)])
def test_same_building_allowance(seconds: int, fast: bool) -> None:
    # 20 m between entrances of one building: within the 30 m allowance, so even 0 s is fine.
    assert reasons(V(H1), V(H3, visited_at=T0 + timedelta(seconds=seconds)))[1] == ((TOO_FAST,) if fast else ())


def test_same_building_allowance_is_small() -> None:
    # 130 m apart, "same building" by address: 100 m remain to walk, 60 s at 6 km/h.
    far_entrance = uuid.uuid4()
    houses = {**HOUSES, far_entrance: HouseSpot(LON, north(130), ("路", "1", "1"))}
    for seconds, expected in ((59, (TOO_FAST,)), (61, ())):
        out = check_visits([V(H1), v := V(far_entrance, visited_at=T0 + timedelta(seconds=seconds))],
                           houses, settings=S)
        assert out[v.id] == expected


def test_several_reasons_together() -> None:
    first = V(H1)
    second = V(H2, visited_at=T0 + timedelta(seconds=5), plate_scanned=False, lat=LAT, lon=LON, accuracy_m=5)
    assert set(reasons(first, second)[1]) == {TYPED, GPS_FAR, TOO_FAST}
