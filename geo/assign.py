"""Placing houses in grid cells by their location (point in polygon), all at once.

One STRtree over the cells answers every house point in a single vectorised query; there
is no Python loop over cells per house. Moves are written set-based (one executemany
UPDATE, one executemany INSERT of "cell_changed" events), each an ordinary new version.

Rules, so that the same data always gives the same answer:
- A point on a shared edge or vertex touches several cells. It stays in its current cell
  when that is one of them; otherwise it goes to the touching cell with the smallest code.
  (Staying put avoids moving houses back and forth when boundaries are merely re-drawn.)
- A house with no location, or outside every cell, keeps its cell and is reported
  ("unplaced"): geometry alone never takes a house out of its cell.
- A house placed by hand (`cell_manual`) keeps its cell even when its location says
  otherwise; it is reported ("kept manual") so a person can look.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import numpy as np
import shapely
from sqlalchemy import CursorResult, Table, and_, bindparam, insert, select, update
from sqlalchemy.orm import Session

from webapp.base.ids import new_id
from geo.shapes import polygon
from webapp.registry.scope_changes import record_house_moves
from webapp.models import Cell, House, HouseEvent
from webapp.models.enums import HouseEventKind
from webapp.base.timeutil import utcnow

_CHUNK = 5000  # ids per IN (…) list


@dataclass(frozen=True)
class HouseMove:
    house_id: uuid.UUID
    address: str
    from_cell: str | None  # cell code; None when it had none
    to_cell: str


@dataclass(frozen=True)
class Unplaced:
    house_id: uuid.UUID
    address: str
    cell: str | None
    reason: str  # "no_location" or "outside"


@dataclass(frozen=True)
class KeptManual:
    house_id: uuid.UUID
    address: str
    cell: str | None  # where a person put it
    by_location: str | None  # where its location says; None: outside every cell


@dataclass
class AssignReport:
    checked: int = 0
    dry_run: bool = False
    moved: list[HouseMove] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    kept_manual: list[KeptManual] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def rows(items: list[Any]) -> list[dict[str, Any]]:
            return [{**asdict(x), "house_id": str(x.house_id)} for x in items]

        return {"checked": self.checked, "dry_run": self.dry_run, "moved": rows(self.moved),
                "unplaced": rows(self.unplaced), "kept_manual": rows(self.kept_manual)}


def locate(cell_geoms: list[shapely.Polygon], lon: np.ndarray, lat: np.ndarray,
           current: np.ndarray, tree: shapely.STRtree | None = None) -> np.ndarray:
    """For each point, the index of its cell (-1: outside every cell).

    `cell_geoms` must be ordered by cell code (the tie rule picks the lowest index);
    `current` holds each point's current cell index, or -1; `tree`, the STRtree of
    `cell_geoms` when the caller keeps one.
    """
    n = len(lon)
    chosen = np.full(n, -1, dtype=np.int64)
    if n == 0 or not cell_geoms:
        return chosen
    tree = tree or shapely.STRtree(cell_geoms)
    # "intersects" for a point = inside or on the boundary (the closed polygon).
    pt, cell = tree.query(shapely.points(lon, lat), predicate="intersects")
    order = np.lexsort((cell, pt))  # by point, then by cell index (= code order)
    pt, cell = pt[order], cell[order]
    first = np.ones(len(pt), dtype=bool)
    first[1:] = pt[1:] != pt[:-1]
    chosen[pt[first]] = cell[first]
    stays = cell == current[pt]
    chosen[pt[stays]] = cell[stays]
    return chosen


def assign_houses(session: Session, *, house_ids: Iterable[uuid.UUID] | None = None,
                  by_user_id: int | None = None, dry_run: bool = False) -> AssignReport:
    """Place live houses (all, or those given) in the cell their location lies in."""
    session.flush()
    cells = _cells(session)
    cell_ids = [c.id for c in cells]
    code_of = {c.id: c.code for c in session.execute(select(Cell.id, Cell.code))}
    index_of = {cid: k for k, cid in enumerate(cell_ids)}
    houses = _houses(session, house_ids)
    report = AssignReport(checked=len(houses), dry_run=dry_run)
    located = [h for h in houses if h.lon is not None and h.lat is not None]
    for h in houses:
        if h.lon is None or h.lat is None:
            report.unplaced.append(Unplaced(h.id, _address(h), code_of.get(h.cell_id), "no_location"))
    chosen = locate(
        [polygon(c.boundary) for c in cells],
        np.array([h.lon for h in located], dtype=float), np.array([h.lat for h in located], dtype=float),
        np.array([index_of.get(h.cell_id, -1) for h in located], dtype=np.int64),
    )
    moves: list[tuple[Any, uuid.UUID]] = []
    for h, k in zip(located, chosen.tolist(), strict=True):
        target = cell_ids[k] if k >= 0 else None
        if target == h.cell_id:
            continue
        if h.cell_manual:
            report.kept_manual.append(KeptManual(h.id, _address(h), code_of.get(h.cell_id), code_of.get(target)))
        elif target is None:
            report.unplaced.append(Unplaced(h.id, _address(h), code_of.get(h.cell_id), "outside"))
        else:
            moves.append((h, target))
            report.moved.append(HouseMove(h.id, _address(h), code_of.get(h.cell_id), code_of[target]))
    if moves and not dry_run:
        _write(session, moves, code_of, by_user_id)
    return report


class CellFinder:
    """The cell `assign_houses` would place a point in, for one point at a time: the cells are
    read on the first question and kept for the rest (a push may place several houses). The
    push asks it (as `sync.reach.Locate`) before a phone moves a house's coordinates."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._ids: list[uuid.UUID] | None = None
        self._geoms: list[shapely.Polygon] = []
        self._tree: shapely.STRtree | None = None

    def __call__(self, lon: float, lat: float, current: uuid.UUID | None = None) -> uuid.UUID | None:
        """`current`: the house's cell now (a point on its edge stays there); None outside
        every cell, where it keeps its cell."""
        if self._ids is None:
            cells = _cells(self._session)
            self._ids, self._geoms = [c.id for c in cells], [polygon(c.boundary) for c in cells]
            self._tree = shapely.STRtree(self._geoms) if self._geoms else None
        now = self._ids.index(current) if current in self._ids else -1
        [k] = locate(self._geoms, np.array([lon], dtype=float), np.array([lat], dtype=float),
                     np.array([now], dtype=np.int64), self._tree).tolist()
        return self._ids[k] if k >= 0 else None


def cell_at(session: Session, lon: float, lat: float, current: uuid.UUID | None = None) -> uuid.UUID | None:
    """One point's cell, as `CellFinder` answers it. The console asks it before saving a
    house's coordinates."""
    return CellFinder(session)(lon, lat, current)


def _cells(session: Session) -> list[Any]:
    """The live cells with a boundary, by code (the tie rule's order)."""
    return list(session.execute(
        select(Cell.id, Cell.code, Cell.boundary).where(Cell.deleted_at.is_(None), Cell.boundary.is_not(None))
        .order_by(Cell.code)
    ).all())


def _houses(session: Session, house_ids: Iterable[uuid.UUID] | None) -> list[Any]:
    cols = select(House.id, House.version, House.cell_id, House.cell_manual, House.lon, House.lat,
                  House.road, House.number, House.building, House.unit, House.room).where(
        House.deleted_at.is_(None))
    if house_ids is None:
        return list(session.execute(cols.order_by(House.id)).all())
    ids = list(dict.fromkeys(house_ids))
    rows: list[Any] = []
    for i in range(0, len(ids), _CHUNK):
        rows += session.execute(cols.where(House.id.in_(ids[i:i + _CHUNK]))).all()
    return sorted(rows, key=lambda r: r.id)


def _address(row: Any) -> str:
    return cast(str, House.address.fget(row))  # type: ignore[attr-defined]


class StaleHouseError(RuntimeError):
    """A house changed between reading and writing: run the assignment again."""


def _write(session: Session, moves: list[tuple[Any, uuid.UUID]], code_of: dict[Any, str],
           by_user_id: int | None) -> None:
    now = utcnow()
    table = cast(Table, House.__table__)
    stmt = (
        update(table)
        .where(and_(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version")))
        .values(cell_id=bindparam("b_cell"), version=table.c.version + 1, changed_at=now,
                changed_by_id=by_user_id)
    )
    params = [{"b_id": h.id, "b_version": h.version, "b_cell": target} for h, target in moves]
    # An UPDATE's result is a CursorResult (the one with a rowcount); Session.execute says Result.
    result = cast(CursorResult[Any], session.execute(stmt, params))
    if session.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(params):
        # The optimistic version check failed for some house: someone edited it meanwhile.
        raise StaleHouseError(f"{len(params) - result.rowcount} house(s) changed meanwhile: roll back, run again")
    events = [{
        "id": new_id(), "version": 1, "changed_at": now, "changed_by_id": by_user_id,
        "house_id": h.id, "kind": HouseEventKind.CELL_CHANGED.value, "at": now, "related_house_ids": [],
        "detail": {"from_cell": code_of.get(h.cell_id), "to_cell": code_of[target],
                   "from_cell_id": str(h.cell_id) if h.cell_id else None, "to_cell_id": str(target)},
    } for h, target in moves]
    session.execute(insert(cast(Table, HouseEvent.__table__)), events)
    # Phones of the old cell evict the house and what hangs off it; the new cell's receive it.
    record_house_moves(session, [(h.id, h.cell_id, target) for h, target in moves])
    # ORM copies of moved houses in this session are now out of date.
    moved = {h.id for h, _ in moves}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, House) and obj.id in moved:
            session.expire(obj)
