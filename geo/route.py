"""A walking order for a cell's houses: building by building, then door by door.

Coordinators walk building → unit → floor → room, so houses are grouped by building
(road + number + building; its point is the mean of its houses' locations). Buildings are
ordered by nearest neighbour from a start (a given lon/lat, else the first building by
address), then improved by 2-opt on the open path — 2-opt only accepts shorter paths, so
it is never longer than nearest neighbour. Distances are equirectangular metres (exact
enough within a subdistrict). Within a building: unit, floor, room in natural order
("2" < "10", "301" < "1201"). Buildings without any location come last, by address.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from geo.address_order import building_key, natural_key
from geo.distance import project_xy
from webapp.models import Cycle

class HouseLike(Protocol):
    id: uuid.UUID
    road: str
    number: str
    building: str | None
    unit: str | None
    floor: int | None
    room: str | None
    lon: float | None
    lat: float | None


def _door_key(h: HouseLike) -> tuple[Any, ...]:
    return (natural_key(h.unit), h.floor is not None, h.floor or 0, natural_key(h.room), str(h.id))


def _address_key(key: tuple[str, str, str]) -> tuple[Any, ...]:
    return tuple(natural_key(part) for part in key)


@dataclass(frozen=True)
class Stop:
    house_id: uuid.UUID
    building: tuple[str, str, str]
    leg_m: float | None  # walked from the previous stop; 0 inside a building; None: unknown
    house: Any = field(default=None, compare=False, repr=False)  # the object passed in


@dataclass
class Route:
    stops: list[Stop] = field(default_factory=list)
    total_m: float = 0.0
    buildings: list[tuple[str, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"total_m": round(self.total_m, 1), "buildings": [list(b) for b in self.buildings],
                "stops": [{"house_id": str(s.house_id), "building": list(s.building),
                           "leg_m": None if s.leg_m is None else round(s.leg_m, 1)} for s in self.stops]}


def path_length(dist: npt.NDArray[np.float64], path: Sequence[int]) -> float:
    return float(sum(dist[a, b] for a, b in zip(path, path[1:], strict=False)))


def nearest_neighbour(dist: npt.NDArray[np.float64], start: int = 0) -> list[int]:
    """An open path from `start` always to the closest unvisited node (ties: lower index)."""
    n = len(dist)
    seen = np.zeros(n, dtype=bool)
    path = [start]
    seen[start] = True
    for _ in range(n - 1):
        d = np.where(seen, np.inf, dist[path[-1]])
        nxt = int(np.argmin(d))
        path.append(nxt)
        seen[nxt] = True
    return path


def two_opt(dist: npt.NDArray[np.float64], path: list[int]) -> list[int]:
    """Reverse path[i..j] while that shortens the open path; path[0] stays first."""
    p = list(path)
    n = len(p)
    improved = True
    while improved and n > 2:
        improved = False
        for i in range(1, n - 1):
            a = p[i - 1]
            js = np.arange(i + 1, n)
            nodes = np.array(p)
            # Removing edges (a, p[i]) and (p[j], p[j+1]); adding (a, p[j]) and (p[i], p[j+1]).
            before = dist[a, p[i]] + np.where(js < n - 1, dist[nodes[js], nodes[np.minimum(js + 1, n - 1)]], 0.0)
            after = dist[a, nodes[js]] + np.where(js < n - 1, dist[p[i], nodes[np.minimum(js + 1, n - 1)]], 0.0)
            gain = before - after
            best = int(np.argmax(gain))
            if gain[best] > 1e-9:
                j = int(js[best])
                p[i:j + 1] = p[i:j + 1][::-1]
                improved = True
    return p


def distance_matrix(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.float64]:
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if not len(lon_a):
        return np.zeros((0, 0))
    xy = project_xy(lon_a, lat_a, float(lon_a.mean()), float(lat_a.mean()))
    return np.asarray(np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]))


def walking_order(houses: Sequence[HouseLike], *, start: tuple[float, float] | None = None) -> Route:
    """Every house once, building by building, with each leg and the total in metres."""
    groups: dict[tuple[str, str, str], list[HouseLike]] = {}
    for h in houses:
        groups.setdefault(building_key(h), []).append(h)
    keys = sorted(groups, key=_address_key)
    points: dict[tuple[str, str, str], tuple[float, float]] = {}
    for key in keys:
        located = [(h.lon, h.lat) for h in groups[key] if h.lon is not None and h.lat is not None]
        if located:
            points[key] = (sum(p[0] for p in located) / len(located), sum(p[1] for p in located) / len(located))
    placed = [k for k in keys if k in points]
    order = _order(placed, points, start)
    route = Route(buildings=order + [k for k in keys if k not in points])
    lon_lat = [start] if start is not None else []
    prev: tuple[float, float] | None = start
    dist = distance_matrix([p[0] for p in [*lon_lat, *(points[k] for k in order)]],
                           [p[1] for p in [*lon_lat, *(points[k] for k in order)]])
    offset = 1 if start is not None else 0
    for b, key in enumerate(route.buildings):
        here = points.get(key)
        if here is None:
            leg: float | None = None
        elif prev is None:
            leg = 0.0
        else:
            leg = float(dist[b + offset - 1, b + offset])
        for k, h in enumerate(sorted(groups[key], key=_door_key)):
            route.stops.append(Stop(h.id, key, leg if k == 0 else 0.0, h))
        route.total_m += leg or 0.0
        prev = here if here is not None else prev
    return route


def _order(placed: list[tuple[str, str, str]], points: dict[tuple[str, str, str], tuple[float, float]],
           start: tuple[float, float] | None) -> list[tuple[str, str, str]]:
    if len(placed) < 2 and start is None:
        return placed
    nodes = ([start] if start is not None else []) + [points[k] for k in placed]
    dist = distance_matrix([p[0] for p in nodes], [p[1] for p in nodes])
    path = two_opt(dist, nearest_neighbour(dist, 0))
    if start is not None:
        return [placed[i - 1] for i in path[1:]]
    return [placed[i] for i in path]


def cell_route(session: Session, cycle: Cycle, cell_id: uuid.UUID, *,
               start: tuple[float, float] | None = None) -> Route:
    """The walking order of a cell's houses not yet visited in the cycle."""
    from geo.coverage import unvisited_houses

    # A House fits HouseLike, but mypy matches a protocol against the mapped columns' Mapped[...]
    # declarations, not the values they give on an instance.
    houses = cast(list[HouseLike], unvisited_houses(session, cycle, cell_id))
    return walking_order(houses, start=start)
