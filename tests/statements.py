"""The SQL statements an engine sends while a piece of code runs, whitespace folded: for tests
that check what reaches the database (which tables a commit stamps, how many round trips a
sync takes), not only what comes back."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


def statements(engine: Engine, run: Callable[[], Any]) -> list[str]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def app_statements(app: Any, run: Callable[[], Any]) -> list[str]:
    """What the app's own engine sends while `run` makes requests (not the tests' `engine`:
    another pool)."""
    from webapp.extensions import db

    with app.app_context():
        engine = db.engine
    return statements(engine, run)
