"""The hot queries behind every push and pull are answered by an index (tests/plans.py), on
both backends: a coordinator's cells (scope_for). The user's conflicts are in
tests/test_sync_conflict_news.py."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from tests import factories as f
from tests.plans import plan_of
from webapp.models import User, cell_coordinator
from webapp.registry.scope import scope_for


def test_a_coordinators_cells_are_found_by_index(db_session: Session, area: Any, backend: str) -> None:
    """cell_coordinator's primary key starts with the cell: finding a user's cells walked the
    whole table on every push and pull until user_id had an index of its own."""
    s = db_session
    cells = [f.cell(s) for _ in range(60)]
    others = [f.user(s, f"plan{n}-{uuid.uuid4().hex[:6]}", "coordinator") for n in range(50)]
    s.execute(insert(cell_coordinator), [{"cell_id": c.id, "user_id": u.id} for c in cells for u in others])
    s.commit()
    if backend == "postgresql":
        s.execute(text("ANALYZE cell_coordinator"))
    coordinator: User = area.users["coordinator"]
    scope = None

    def ask() -> None:
        nonlocal scope
        scope = scope_for(s, coordinator)

    plan = plan_of(s, "cell_coordinator", ask)
    assert "ix_cell_coordinator_user_id" in plan, plan
    assert scope is not None and scope.cell_ids == {c.id for c in area.cells.values() if coordinator in c.coordinators}
    assert scope.cell_ids  # the area's coordinator has cells: the query had something to find
