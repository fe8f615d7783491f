"""What the generator keeps in memory of the rows it wrote: only what later stages need."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from webapp.models import House
from webapp.registry.demo.grid import _Quad


class _Addr(NamedTuple):
    """The fields House.address reads, so the model's own formatter can be reused."""

    road: str
    number: str
    building: str | None
    unit: str | None
    room: str | None


def _address(addr: _Addr) -> str:
    # One source of truth for how Shanghai addresses are written: the model's property.
    return House.address.fget(addr)  # type: ignore[attr-defined]


@dataclass
class _Cell:
    index: int
    id: uuid.UUID
    code: str
    committee: int
    quad: _Quad
    roads: tuple[str, str]
    coordinators: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _House:
    id: uuid.UUID
    cell: int
    lon: float
    lat: float
    use: str
    addr: _Addr
    kind: str  # site kind: block / shop / office / dorm
    rooms: list[uuid.UUID]
    group_rent: bool = False
    lived_in_shop: bool = False


@dataclass
class _Site:
    """A building or premises on one spot; expands into houses."""

    kind: str
    road: str
    number: str
    building: str | None
    units: int
    floors: int
    per_floor: int
    u: float = 0.5
    v: float = 0.5


# One person of a household: (relation to the house, room, person spec).
_Member = tuple[str, "uuid.UUID | None", dict[str, Any]]
