"""Walking order: a permutation, grouped by building, door order natural, 2-opt ≤ NN."""
from __future__ import annotations

import itertools
import json
import math
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from geo.route import (
    distance_matrix,
    natural_key,
    nearest_neighbour,
    path_length,
    two_opt,
    walking_order,
)

# One metre in degrees of latitude (the route's equirectangular frame uses the same radius).
M = 1 / 111_195.08


@dataclass
class H:
    road: str
    number: str
    building: str | None
    unit: str | None
    floor: int | None
    room: str | None
    lon: float | None
    lat: float | None
    id: uuid.UUID = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.id = self.id or uuid.uuid4()


def test_natural_key() -> None:
    assert sorted(["10", "2", "1"], key=natural_key) == ["1", "2", "10"]
    assert sorted(["1201", "301", "302", "1101"], key=natural_key) == ["301", "302", "1101", "1201"]
    assert sorted(["88弄", "9弄", "100弄"], key=natural_key) == ["9弄", "88弄", "100弄"]
    assert natural_key(None) == natural_key("") == ()


def test_natural_key_is_the_registrys_order_for_any_text() -> None:
    """The field app's order by its shared vectors, and no digit int() refuses can break it."""
    vectors = json.loads((Path(__file__).parent / "vectors" / "address.json").read_text(encoding="utf-8"))
    assert sorted(reversed(vectors["order"]), key=natural_key) == vectors["order"]
    assert sorted(["②", "①", "2²", "10", "2"], key=natural_key) == ["2", "2²", "10", "①", "②"]


def test_doors_inside_a_building_in_unit_floor_room_order() -> None:
    rooms = [("2", 12, "1201"), ("1", 3, "301"), ("1", 12, "1202"), ("1", 12, "1201"), ("2", 3, "302"),
             ("10", 1, "101"), ("1", 10, "1001")]
    houses = [H("荣乐东路", "88弄", "3", u, f, r, 121.23, 31.03) for u, f, r in rooms]
    random.Random(1).shuffle(houses)
    route = walking_order(houses)
    got = [(h.unit, h.floor, h.room) for h in _in_order(route, houses)]
    assert got == [("1", 3, "301"), ("1", 10, "1001"), ("1", 12, "1201"), ("1", 12, "1202"),
                   ("2", 3, "302"), ("2", 12, "1201"), ("10", 1, "101")]
    assert route.total_m == 0 and all(s.leg_m == 0 for s in route.stops)


def _in_order(route, houses):  # type: ignore[no-untyped-def]
    by_id = {h.id: h for h in houses}
    return [by_id[s.house_id] for s in route.stops]


def _buildings(rng: random.Random, n: int, doors: int = 3) -> list[H]:
    out = []
    for b in range(n):
        lon, lat = 121.22 + rng.random() * 0.01, 31.02 + rng.random() * 0.01
        for d in range(doors):
            out.append(H("路", f"{b + 1}号", None, None, 1 + d // 2, f"{1 + d // 2}0{d % 2 + 1}",
                         lon + rng.gauss(0, 1e-5), lat + rng.gauss(0, 1e-5)))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_route_is_a_permutation_building_by_building(seed: int) -> None:
    rng = random.Random(seed)
    houses = _buildings(rng, rng.randint(1, 25), doors=rng.randint(1, 4))
    rng.shuffle(houses)
    route = walking_order(houses)
    assert sorted(str(s.house_id) for s in route.stops) == sorted(str(h.id) for h in houses)
    # Each building is entered once: its doors are consecutive.
    seen: list[tuple[str, str, str]] = []
    for s in route.stops:
        if not seen or seen[-1] != s.building:
            assert s.building not in seen
            seen.append(s.building)
    assert seen == route.buildings
    assert route.total_m == pytest.approx(sum(s.leg_m or 0 for s in route.stops))


@pytest.mark.parametrize("seed", range(30))
def test_two_opt_never_longer_than_nearest_neighbour(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    dist = distance_matrix(121.22 + rng.random(n) * 0.02, 31.02 + rng.random(n) * 0.02)
    nn = nearest_neighbour(dist, 0)
    better = two_opt(dist, nn)
    assert sorted(better) == list(range(n)) and better[0] == 0
    assert path_length(dist, better) <= path_length(dist, nn) + 1e-9


def _optimum(dist: np.ndarray) -> float:
    n = len(dist)
    return min(path_length(dist, [0, *p]) for p in itertools.permutations(range(1, n)))


def test_known_case_where_two_opt_repairs_nearest_neighbour() -> None:
    # Metres from the start S=(0,0): A=(0,200) north, B=(-150,0), C=(50,0), D=(-100,-150),
    # E=(-100,0). Nearest neighbour: S→C 50, →E 150, →B 50, →D 158.1, then all the way up
    # to A 364.0 = 772.1 m. Going up to A early is better: S→C 50, →A 206.2, →E 223.6,
    # →B 50, →D 158.1 = 687.9 m, the optimum over all 120 orders.
    xs_ys = [(0, 0), (0, 200), (-150, 0), (50, 0), (-100, -150), (-100, 0)]
    lon = [121.23 + x * M / math.cos(math.radians(31.03)) for x, _ in xs_ys]
    lat = [31.03 + y * M for _, y in xs_ys]
    dist = distance_matrix(lon, lat)
    nn = nearest_neighbour(dist, 0)
    best = two_opt(dist, nn)
    assert nn == [0, 3, 5, 2, 4, 1]
    assert path_length(dist, nn) == pytest.approx(772.1, abs=0.5)
    assert best == [0, 3, 1, 5, 2, 4]
    assert path_length(dist, best) == pytest.approx(687.9, abs=0.5)
    assert path_length(dist, best) == pytest.approx(_optimum(dist))


@pytest.mark.parametrize("seed", range(10))
def test_small_cases_reach_the_optimum_or_come_close(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    dist = distance_matrix(121.22 + rng.random(7) * 0.01, 31.02 + rng.random(7) * 0.01)
    got = path_length(dist, two_opt(dist, nearest_neighbour(dist, 0)))
    # 2-opt is a heuristic: on 7 random buildings it is within 10 % of the optimum.
    assert got <= _optimum(dist) * 1.10 + 1e-6


def test_points_on_a_line_are_walked_end_to_end() -> None:
    # Buildings 0, 100, 200, 300 m east of the start: the optimum walks them in order, 300 m.
    houses = [H("路", str(k), None, None, 1, "101", 121.23 + (100 * k * M) / math.cos(math.radians(31.03)), 31.03)
              for k in (3, 1, 2, 4)]
    route = walking_order(houses, start=(121.23, 31.03))
    assert [b[1] for b in route.buildings] == ["1", "2", "3", "4"]
    assert route.total_m == pytest.approx(400, abs=0.5)  # 100 m from the start to the first


def test_start_point_decides_the_first_building() -> None:
    west = H("路", "1", None, None, 1, "101", 121.22, 31.03)
    east = H("路", "2", None, None, 1, "101", 121.24, 31.03)
    assert walking_order([west, east], start=(121.25, 31.03)).buildings[0][1] == "2"
    assert walking_order([west, east]).buildings[0][1] == "1"  # no start: first by address


def test_buildings_without_location_come_last() -> None:
    a = H("路", "2", None, None, 1, "101", 121.23, 31.03)
    b = H("路", "1", None, None, 1, "101", None, None)
    route = walking_order([b, a])
    assert [s.house_id for s in route.stops] == [a.id, b.id]
    assert route.stops[1].leg_m is None


def test_empty() -> None:
    route = walking_order([])
    assert route.stops == [] and route.total_m == 0
