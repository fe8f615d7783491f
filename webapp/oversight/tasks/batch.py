"""Generated tasks written in batches: the cycle's unvisited houses or a campaign's area can
be a whole district (200,000+ houses), and one ORM object per task took ~4 s per 10,000
(inside the centre's request); a bulk INSERT of plain rows takes a fraction of it."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from webapp.models import Task
from webapp.models.enums import TaskKind, TaskStatus
from webapp.models.task import TASK_TEXT_MAX

_CHUNK = 5000


def used_keys(session: Session, prefix: str) -> set[str]:
    """Generated tasks' keys with this prefix, open or closed: a key is never used twice."""
    return set(session.scalars(select(Task.origin_key).where(Task.origin_key.startswith(prefix, autoescape=True))))


class TaskBatch:
    """Open tasks to make, one per house, assigned to the cell's sole coordinator if any."""

    def __init__(self, session: Session, sole: dict[uuid.UUID, int]) -> None:
        self.session, self.sole = session, sole
        self.rows: list[dict[str, Any]] = []

    def add(self, *, house_id: uuid.UUID, cell_id: uuid.UUID | None, source: str, text: str, key: str,
            due_on: date) -> None:
        self.rows.append({"house_id": house_id, "cell_id": cell_id, "kind": TaskKind.PROBLEM.value,
                          "text": text[:TASK_TEXT_MAX], "status": TaskStatus.OPEN.value, "source": str(source),
                          "origin_key": key, "due_on": due_on,
                          "assignee_id": self.sole.get(cell_id) if cell_id else None})

    def write(self) -> int:
        """Insert them (the columns' defaults fill the rest: id, version, times) and flush; no
        commit. Returns how many were made."""
        for i in range(0, len(self.rows), _CHUNK):
            self.session.execute(insert(Task), self.rows[i:i + _CHUNK])
        self.session.flush()
        made, self.rows = len(self.rows), []
        return made
