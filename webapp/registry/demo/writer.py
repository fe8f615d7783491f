"""Writing generated rows: buffered per table, inserted with Core executemany in batches."""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from webapp.models import (
    Cell,
    Committee,
    House,
    HouseCode,
    HouseEvent,
    HouseFlag,
    Person,
    Residency,
    Room,
    Unit,
    Visit,
    cell_coordinator,
)
from webapp.registry.demo.reference import BATCH, REFERENCE_TIME

Progress = Callable[[str, int, int], None]


class _Writer:
    """Buffers rows per table; flushes all tables in foreign-key order when one is full."""

    ORDER: tuple[Table, ...] = (
        cast(Table, Committee.__table__), cast(Table, Cell.__table__), cell_coordinator,
        *(cast(Table, m.__table__)
          for m in (House, HouseCode, Room, HouseFlag, HouseEvent, Unit, Person, Residency, Visit)),
    )

    def __init__(self, session: Session, progress: Progress | None) -> None:
        self.session = session
        self.progress = progress
        self.buffers: dict[Table, list[dict[str, Any]]] = {t: [] for t in self.ORDER}
        self.counts: Counter[str] = Counter()
        self.stage, self.done, self.total = "", 0, 0

    def add(self, target: type[Any] | Table, row: dict[str, Any]) -> None:
        """Queue a row for a model class (or a plain Table such as cell_coordinator)."""
        rows = self.buffers[target if isinstance(target, Table) else target.__table__]
        rows.append(row)
        if len(rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        for table in self.ORDER:
            rows = self.buffers[table]
            if rows:
                self.session.execute(insert(table), rows)
                self.counts[table.name] += len(rows)
                self.buffers[table] = []
        self.report()

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.stage, self.done, self.total)

    def begin(self, stage: str, total: int) -> None:
        self.stage, self.done, self.total = stage, 0, total
        self.report()


def _synced(row_id: uuid.UUID, **values: Any) -> dict[str, Any]:
    return {"id": row_id, "version": 1, "changed_at": REFERENCE_TIME, **values}
