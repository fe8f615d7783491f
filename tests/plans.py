"""The query plan of the statement a call sends to one table: for tests that a hot path
(every push, every pull) is answered by an index, not by walking the table."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session


def plan_of(session: Session, table: str, call: Callable[[], Any]) -> str:
    """Run `call`; EXPLAIN the one statement it sent that reads FROM `table`, as sent."""
    seen: list[tuple[str, Any]] = []
    # SQLite quotes a table named like a keyword ("conflict").
    reads = re.compile(rf'FROM "?{re.escape(table)}"?\s')

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if reads.search(statement):
            seen.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", keep)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert len(seen) == 1, seen
    statement, parameters = seen[0]
    explain = "EXPLAIN " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    return " ".join(str(r) for r in session.connection().exec_driver_sql(explain + statement, parameters).all())
