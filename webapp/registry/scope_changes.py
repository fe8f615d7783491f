"""Recording records that enter or leave a cell without changing themselves.

A house moved to another cell changes its own row, but its occupants, codes and visits do
not: the old cell's phones must evict them, the new cell's phones must receive them. Pull
reads these rows (sync/pull.py) for the device's cells.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from webapp.models import ScopeChange

Row = dict[str, Any]


def row(cell_id: uuid.UUID, record_type: str, record_id: uuid.UUID, kind: str) -> Row:
    return {"cell_id": cell_id, "record_type": record_type, "record_id": record_id, "kind": kind}


def house_move(house_id: uuid.UUID, old: uuid.UUID | None, new: uuid.UUID | None) -> list[Row]:
    """A "leave" for the old cell and an "enter" for the new."""
    if old == new:
        return []
    return ([row(old, "house", house_id, "leave")] if old is not None else []) + \
        ([row(new, "house", house_id, "enter")] if new is not None else [])


def record_house_moves(session: Session, moves: Iterable[tuple[uuid.UUID, uuid.UUID | None, uuid.UUID | None]]) -> None:
    """(house, from cell, to cell) → a "leave" for the old cell and an "enter" for the new."""
    rows = [r for house_id, old, new in moves for r in house_move(house_id, old, new)]
    if rows:
        session.execute(insert(ScopeChange), rows)


def of_edit(kind: str, before: Mapping[str, Any], after: Mapping[str, Any],
            cell_of: Callable[[Any], uuid.UUID | None]) -> list[Row]:
    """What an edit of a record takes out of a cell (or into one) without the moved rows
    changing themselves: a house given another cell takes its occupants, codes and visits
    along; an open stay moved to a house in another cell takes its person out of the old
    one. Written by every door that edits (a phone's push, the centre's decision), or the
    old cell's phones keep them, full numbers and all. `cell_of`: a house's cell now."""
    if kind == "house":
        return house_move(after["id"], before.get("cell_id"), after.get("cell_id"))
    if kind == "residency" and before.get("house_id") != after.get("house_id") \
            and before.get("end_date") is None and before.get("deleted_at") is None:
        old, new = cell_of(before.get("house_id")), cell_of(after.get("house_id"))
        if old is not None and old != new:
            # The stay itself too: it now names a house the old cell's phones do not hold,
            # and no later version of it reaches them.
            return [row(old, "person", after["person_id"], "leave"), row(old, "residency", after["id"], "leave")]
    return []
