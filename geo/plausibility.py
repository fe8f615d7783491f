"""Is a visit believable? A pure function over visit rows, so phones, sync and the coverage
figures can all apply the same rules.

A visit is unverified, for one or more of these reasons:
- "typed": the plate code was typed, not scanned (a scan proves someone was at the door);
- "gps_far": its GPS fix is farther from the house than the fix's reported accuracy plus a
  margin (indoor GPS is often ~50 m off: setting VISIT_GPS_MARGIN_M);
- "too_fast": it follows the same coordinator's previous visit sooner than walking between
  the two houses takes (WALKING_SPEED_KMH). Doors of one building (road + number +
  building) up to WALKING_SAME_BUILDING_M apart count as no walk at all.
A visit without GPS is not "gps_far" (there is nothing to compare); a scanned plate still
proves presence, and a typed one is already unverified. Exactly at a limit is still fine.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from geo.distance import haversine_m
from geo.settings import GeoSettings, default_settings

TYPED, GPS_FAR, TOO_FAST = "typed", "gps_far", "too_fast"
REASON_LABELS = {
    TYPED: ("手工输入门牌码，未扫码", "Plate typed, not scanned"),
    GPS_FAR: ("定位离房屋过远", "GPS too far from the house"),
    TOO_FAST: ("与上一次走访间隔过短，步行来不及", "Too soon after the previous visit to have walked there"),
}


class VisitLike(Protocol):
    id: Hashable
    house_id: uuid.UUID
    user_id: int | None
    visited_at: datetime
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    plate_scanned: bool


@dataclass(frozen=True)
class HouseSpot:
    lon: float | None
    lat: float | None
    building: tuple[str, str, str]  # road, number, building


def check_visits(
    visits: Iterable[VisitLike],
    houses: Mapping[uuid.UUID, HouseSpot],
    *,
    settings: GeoSettings | None = None,
) -> dict[Hashable, tuple[str, ...]]:
    """Each visit's reasons to doubt it; an empty tuple means verified."""
    s = settings or default_settings()
    margin, speed_mps = s.visit_gps_margin_m, s.walking_speed_kmh / 3.6
    out: dict[Hashable, list[str]] = {}
    by_user: dict[int, list[VisitLike]] = defaultdict(list)
    for v in visits:
        reasons = out.setdefault(v.id, [])
        if not v.plate_scanned:
            reasons.append(TYPED)
        spot = houses.get(v.house_id)
        if (spot is not None and spot.lon is not None and spot.lat is not None
                and v.lon is not None and v.lat is not None):
            if haversine_m(v.lon, v.lat, spot.lon, spot.lat) > (v.accuracy_m or 0.0) + margin:
                reasons.append(GPS_FAR)
        if v.user_id is not None:
            by_user[v.user_id].append(v)
    for seq in by_user.values():
        seq.sort(key=lambda v: (v.visited_at, str(v.id)))
        for prev, cur in zip(seq, seq[1:], strict=False):
            if _too_fast(prev, cur, houses, speed_mps, s.walking_same_building_m):
                out[cur.id].append(TOO_FAST)
    return {k: tuple(v) for k, v in out.items()}


def _where(v: VisitLike, houses: Mapping[uuid.UUID, HouseSpot]) -> tuple[float, float] | None:
    """Where the visit happened: its house's location, else its own GPS fix."""
    spot = houses.get(v.house_id)
    if spot is not None and spot.lon is not None and spot.lat is not None:
        return spot.lon, spot.lat
    if v.lon is not None and v.lat is not None:
        return v.lon, v.lat
    return None


def _too_fast(prev: VisitLike, cur: VisitLike, houses: Mapping[uuid.UUID, HouseSpot],
              speed_mps: float, same_building_m: float) -> bool:
    a, b = _where(prev, houses), _where(cur, houses)
    if a is None or b is None:
        return False
    walk = haversine_m(a[0], a[1], b[0], b[1])
    pa, pb = houses.get(prev.house_id), houses.get(cur.house_id)
    if pa is not None and pb is not None and pa.building == pb.building:
        walk = max(0.0, walk - same_building_m)
    seconds = (cur.visited_at - prev.visited_at).total_seconds()
    return walk > speed_mps * seconds
