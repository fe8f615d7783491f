"""The change log: after every committed write, each person, house and unit the transaction
wrote leaves a version row (webapp/models/history.py) with all its columns, who, when and
through which door.

Why here and not at each write path: a push writes by COPY and `UPDATE ... FROM unnest`, an
import through the ORM, the purge by bulk UPDATE, a merge and a conflict resolution through
the ORM again; a hook per path would be forgotten by the next one. Every one of them leaves
the rows it wrote with `seq` NULL until the commit numbers them (webapp/registry/sequence.py), so just
before that commit one INSERT ... SELECT per table copies exactly those rows, in the database,
whatever wrote them. The hook runs before the numbering (`insert=True`), only when the
transaction wrote synced rows, and never holds the counter's lock.

Installed by an explicit call (`install`), from the app factory, the tests' conftest and the
benchmark's dataset builder, where the sequence's hooks are installed. Plain SQLAlchemy: no
Flask (the app passes a function that names the door of the request or command).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import uuid
from sqlalchemy import JSON, Boolean, Connection, Date, Float, Table, bindparam, event, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine, Uuid

from webapp.registry.sequence import unstamped_tables
from webapp.models import House, Person, RecordVersion, Unit
from webapp.models.base import UTCDateTime
from webapp.base.timeutil import utcnow

TRACKED: dict[str, Any] = {"person": Person, "house": House, "unit": Unit}
# Columns that are the version row's own (id, version, who, when) or bookkeeping: the sync
# sequence number, the reversed copies behind "last digits" search and the address keys.
BOOKKEEPING = frozenset({"id", "version", "changed_at", "changed_by_id", "seq", "id_rev", "phone_rev",
                         "hukou_key", "hukou_room_key", "address_key", "room_key"})
# The doors a change comes through: a console page, a phone's push, a phone's exported outbox
# imported by the centre, the police extract's import, a merge of two records, a conflict's
# resolution, a command, anything else (tests, scripts), and the state when the log began.
DOORS = ("console", "phone", "rescue", "import", "merge", "conflict", "cli", "system", "baseline")

_DOOR_KEY = "gridwalk_door"


@dataclass(frozen=True)
class Door:
    kind: str
    ref: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in DOORS:
            raise ValueError(f"unknown door {self.kind!r}")


Resolver = Callable[[], "Door | None"]
_resolver: list[Resolver] = []


def set_door(session: Session, kind: str, ref: object = None) -> None:
    """Name the door of this session's changes (a phone's device id, a rescue file's phone);
    read at commit, so it may be set any time before."""
    session.info[_DOOR_KEY] = Door(kind, str(ref)[:80] if ref is not None else None)


def door_of(session: Session) -> Door:
    door = session.info.get(_DOOR_KEY)
    if door is None and _resolver:
        door = _resolver[0]()
    return door or Door("system")


def snapshot_sql(dialect: str, table: str, columns: Iterable[tuple[str, bool]], *, where: str = "t.seq IS NULL",
                 door: bool = True) -> str:
    """INSERT ... SELECT copying `table`'s rows into record_version. `columns` are (name,
    is_json) of the table; on PostgreSQL the whole row is taken (columns added later too)."""
    if dialect == "postgresql":
        dropped = ", ".join(f"'{c}'" for c in sorted(BOOKKEEPING))
        snapshot = f"CAST(to_jsonb(t) - ARRAY[{dropped}]::text[] AS json)"
    else:
        pairs = ", ".join(f"'{name}', " + (f"json(t.{name})" if is_json else f"t.{name}")
                          for name, is_json in columns if name not in BOOKKEEPING)
        snapshot = f"json_object({pairs})"
    return (f"INSERT INTO record_version (record_type, record_id, version, changed_at, changed_by_id, door, "
            f"door_ref, recorded_at, snapshot) "
            f"SELECT '{_record_type(table)}', t.id, t.version, t.changed_at, t.changed_by_id, "
            + (":door, :ref, :now" if door else "'baseline', NULL, :now")
            + f", {snapshot} FROM {table} AS t" + (f" WHERE {where}" if where else ""))


def _record_type(table: str) -> str:
    return next(k for k, m in TRACKED.items() if m.__tablename__ == table)


def _columns(model: Any) -> list[tuple[str, bool]]:
    table: Table = model.__table__
    return [(c.name, isinstance(c.type, JSON)) for c in table.columns]


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _statement(dialect: str, record_type: str) -> Any:
    key = (dialect, record_type)
    if key not in _STATEMENTS:
        model = TRACKED[record_type]
        _STATEMENTS[key] = text(snapshot_sql(dialect, model.__tablename__, _columns(model))).bindparams(
            bindparam("now", type_=UTCDateTime()))
    return _STATEMENTS[key]


def capture(session: Session) -> None:
    """Copy the rows this transaction wrote into record_version (before they are numbered)."""
    session.flush()
    written = {t.name for t in unstamped_tables(session)}
    tracked = [k for k, model in TRACKED.items() if model.__tablename__ in written]
    if not tracked:
        return
    door = door_of(session)
    dialect = session.get_bind().dialect.name
    params = {"door": door.kind, "ref": door.ref, "now": utcnow()}
    connection = session.connection()  # not session.execute: its hook would take the INSERT for a write
    for record_type in tracked:
        connection.execute(_statement(dialect, record_type), params)


def baseline(connection: Connection) -> None:
    """Every existing row as its first known version (the migration that creates the log).
    Reads the columns the database has, not the models': a later migration may add some."""
    from sqlalchemy import inspect

    inspector = inspect(connection)
    dialect = connection.dialect.name
    for model in TRACKED.values():
        name = model.__tablename__
        columns = [(c["name"], isinstance(c["type"], JSON)) for c in inspector.get_columns(name)]
        connection.execute(text(snapshot_sql(dialect, name, columns, where="", door=False))
                           .bindparams(bindparam("now", type_=UTCDateTime())), {"now": utcnow()})


def _before_commit(session: Session) -> None:
    capture(session)


def install(resolver: Resolver | None = None) -> None:
    """Write the change log at every commit of every session; `resolver` names the door of
    changes whose session did not (the app's: the request's page, or the command)."""
    if resolver is not None:
        _resolver[:] = [resolver]
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit, insert=True)


def installed() -> bool:
    return event.contains(Session, "before_commit", _before_commit)


# --- Reading: the stored values as the columns' Python values ------------------------------

def coerce(kind: TypeEngine[Any] | None, raw: Any) -> Any:
    """A snapshot value as its column's Python value: SQLite keeps uuids as hex, booleans as
    0/1 and times as naive UTC text; PostgreSQL writes ISO times with an offset."""
    if raw is None or kind is None:
        return raw
    if isinstance(kind, UTCDateTime):
        value = datetime.fromisoformat(str(raw).replace(" ", "T"))
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(kind, Date):
        return date.fromisoformat(str(raw)[:10])
    if isinstance(kind, Uuid):
        return uuid.UUID(str(raw))
    if isinstance(kind, Boolean):
        return bool(raw)
    if isinstance(kind, Float):
        return float(raw)
    return raw


def values(record_type: str, snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    table: Table = TRACKED[record_type].__table__
    return {k: coerce(table.c[k].type if k in table.c else None, v) for k, v in snapshot.items()
            if k not in BOOKKEEPING}


__all__ = ["BOOKKEEPING", "DOORS", "Door", "RecordVersion", "TRACKED", "baseline", "capture", "coerce", "door_of",
           "install", "set_door", "snapshot_sql", "values"]
