"""Recording records that enter or leave a cell without changing themselves.

A house moved to another cell changes its own row, but its occupants, codes and visits do
not: the old cell's phones must evict them, the new cell's phones must receive them. Pull
reads these rows (sync/pull.py) for the device's cells.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import insert
from sqlalchemy.orm import Session

from webapp.models import ScopeChange


def record_house_moves(session: Session, moves: Iterable[tuple[uuid.UUID, uuid.UUID | None, uuid.UUID | None]]) -> None:
    """(house, from cell, to cell) → a "leave" for the old cell and an "enter" for the new."""
    rows = []
    for house_id, old, new in moves:
        if old is not None:
            rows.append({"cell_id": old, "record_type": "house", "record_id": house_id, "kind": "leave"})
        if new is not None:
            rows.append({"cell_id": new, "record_type": "house", "record_id": house_id, "kind": "enter"})
    if rows:
        session.execute(insert(ScopeChange), rows)
