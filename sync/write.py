"""What each mutation writes, and writing it: executemany batches, with a slow path that
redoes one mutation per savepoint only after a failure, so one bad mutation never undoes
the others."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync import conflicts
from sync.bulk import insert_rows, update_rows
from sync.batch import Mutation, Outcome
from sync.state import State
from sync.wire import RECORD_TYPES
from webapp.base.dberrors import describe
from webapp.models import Device

# Tables written before updates (parents), and after (children that may need an old
# residency ended first: one open residency per person).
PARENTS = ("house", "room", "house_code", "house_flag", "unit", "person")
CHILDREN = ("residency", "visit")


@dataclass
class Write:
    """What one mutation writes, so that the slow path can redo it alone."""

    inserts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    updates: list[tuple[str, uuid.UUID, int, dict[str, Any]]] = field(default_factory=list)
    extras: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)  # (table, row)


def conflict_outcome(m: Mutation, work: Write, ctx: conflicts.Context, kind: str, base: dict[str, Any],
              registry: dict[str, Any], now: datetime, detail: dict[str, Any] | None = None,
              status: str = "conflict", canonical: uuid.UUID | None = None) -> Outcome:
    row = conflicts.row(ctx, kind, base=base, registry=registry, device=m.fields, detail=detail or {}, now=now)
    work.extras.append((conflicts.TABLE, row))
    return Outcome(m.id, m.seq, status, m.type, m.record_id, conflict_id=row["id"], canonical_id=canonical)


def stamp_person(values: dict[str, Any]) -> None:
    # The reversed copies behind "last digits" search follow the numbers.
    if "id_number" in values:
        values["id_rev"] = values["id_number"][::-1] if values["id_number"] else None
    if "phone" in values:
        values["phone_rev"] = values["phone"][::-1] if values["phone"] else None


def update_row(kind: str, current: dict[str, Any], take: dict[str, Any], now: datetime, work: Write,
                device: Device, state: State) -> None:
    rid = current["id"]
    if kind == "person":
        stamp_person(take)
    expected = current["version"]
    current.update(take)
    state.reindex(kind, current)
    if rid in state.new[kind]:
        return  # still to be inserted: the insert row is this very dict
    current["version"] = expected + 1
    work.updates.append((kind, rid, expected, {**take, "changed_at": now, "changed_by_id": device.user_id}))


def write(session: Session, writes: list[tuple[Mutation, Outcome, Write]], device: Device, now: datetime) -> None:
    groups = [w for _, _, w in writes]
    # Savepoints on the connection, not the session's: the rows go out as statements, never
    # as objects the session would have to forget on a rollback, and releasing the session's
    # savepoint ran every commit hook (numbering, change log, address keys) there, so that
    # PostgreSQL's change counter stayed locked through the receipts and the device's note.
    # On a small push the session's savepoint and its release were about 3 % of the sync's CPU.
    connection = session.connection()
    try:
        with connection.begin_nested():
            _flush_groups(session, groups)
    except IntegrityError:
        # Slow path, only after a failure: each mutation alone, so one race loses alone.
        for m, outcome, work in writes:
            try:
                with connection.begin_nested():
                    _flush_groups(session, [work])
            except IntegrityError as error:
                row = conflicts.row(
                    conflicts.Context(device=device, mutation=m, house_id=None, cell_id=None),
                    "constraint", base=m.base, registry={}, device=m.fields,
                    detail={"error": describe(error)[:300]}, now=now)
                session.execute(insert(conflicts.TABLE), [row])
                outcome.status, outcome.conflict_id, outcome.version = "conflict", row["id"], None


def _flush_groups(session: Session, groups: list[Write]) -> None:
    inserts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    updates: dict[tuple[str, frozenset[str]], list[dict[str, Any]]] = defaultdict(list)
    extras: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for work in groups:
        for kind, row in work.inserts:
            inserts[kind].append(row)
        for kind, rid, expected, values in work.updates:
            updates[(kind, frozenset(values))].append({**values, "_id": rid, "_expected": expected})
        for table, row in work.extras:
            extras[table].append(row)
    for kind in PARENTS:
        _insert(session, kind, inserts.pop(kind, []))
    for (kind, columns), rows in updates.items():
        update_rows(session, RECORD_TYPES[kind].table, columns, rows)
    for kind in CHILDREN:
        _insert(session, kind, inserts.pop(kind, []))
    for table, rows in extras.items():
        insert_rows(session, table, rows)


def _insert(session: Session, kind: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = RECORD_TYPES[kind].table
    # A column the phone left out gets its default here, in the row the batch keeps: the same
    # whatever else the batch holds (executemany needs one shape, and a key another row had
    # would be NULL), and known to the push's answer (sync/echo.py tells the phone).
    for column in table.columns:
        default = column.default
        if default is None or not (default.is_scalar or default.is_callable):
            continue
        for row in rows:
            if column.name not in row:
                row[column.name] = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
    columns = set().union(*rows)
    insert_rows(session, table, [{c: r.get(c) for c in columns} for r in rows])
