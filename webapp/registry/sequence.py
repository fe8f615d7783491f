"""The change sequence: every committed change gets a number, in commit order.

A database sequence hands out numbers at insert, not at commit, so a reader could pass a
number whose transaction commits later and never see it. Instead, every insert or update
of a synced row leaves `seq` NULL (the column's Core/ORM `onupdate`), and just before
commit the session takes the next number from a one-row counter and stamps its rows.
Taking the number locks the counter row until commit, so a higher number can only be
handed out after the lower one is committed: a pull that reads up to the counter's
committed value never skips anything.

That lock serialises every committing writer, so it is taken as late as possible and held
as briefly as possible: after the final flush, and on PostgreSQL in one statement that takes
the number and stamps every table (a round trip per table under the lock, with a busy
machine scheduling other work between them, made commits queue behind the counter: see
RELIABILITY.md). SQLite serialises its writers anyway, from BEGIN IMMEDIATE on.

Nothing happens on import: `install()` puts the hooks in place (see `recording`).
"""
from __future__ import annotations

import re
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, TextClause, bindparam, event, insert, select, text, update
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from webapp.models import SYNCED_MODELS, ChangeCounter, ScopeChange

STAMPED_TABLES: tuple[Table, ...] = tuple(
    cast(Table, m.__table__) for m in (*SYNCED_MODELS, ScopeChange))
_STAMPED_NAMES = frozenset(t.name for t in STAMPED_TABLES)
# The names of the synced tables this transaction wrote, or ANY for "maybe any of them" (a
# text statement, a COPY the caller did not name): the commit then stamps, logs and keys only
# those tables. Stamping all fourteen after a push of ten visits was a quarter of its time.
_PENDING = "gridwalk_unstamped"
ANY = "*"


def next_seq(session: Session) -> int:
    """Take the next number; the row stays locked until this transaction ends."""
    value = session.connection().execute(_NEXT).scalar()
    if value is None:  # a fresh database without the seeded row
        session.connection().execute(insert(_COUNTER).values(id=1, value=1))
        value = 1
    return int(value)


# Built once, on the table and run on the connection: every commit that wrote synced rows
# takes a number, and as an ORM statement this one UPDATE cost 126 µs instead of 20 (the ORM's
# bulk-update path works out which loaded objects to refresh; no counter object is ever loaded).
_COUNTER = cast(Table, ChangeCounter.__table__)
_NEXT = (update(_COUNTER).where(_COUNTER.c.id == 1)
         .values(value=_COUNTER.c.value + 1).returning(_COUNTER.c.value))


def committed_seq(session: Session) -> int:
    """The highest number whose changes are all committed and visible."""
    return int(session.connection().scalar(_COMMITTED) or 0)


# Built once: every pull reads it.
_COMMITTED = select(_COUNTER.c.value).where(_COUNTER.c.id == 1)


def _stamp_statement(tables: tuple[Table, ...]) -> str:
    # Data-modifying CTEs run on one snapshot, which holds this transaction's own unstamped
    # rows; each UPDATE finds them through its table's partial index (seq IS NULL). Writing
    # seq alone leaves changed_at as it was: stamping is bookkeeping, not a change.
    counter = cast(Table, ChangeCounter.__table__).name
    parts = [f"n AS (UPDATE {counter} SET value = value + 1 WHERE id = 1 RETURNING value)"]
    parts += [f"s{i} AS (UPDATE {t.name} SET seq = (SELECT value FROM n) WHERE seq IS NULL)"
              for i, t in enumerate(tables)]
    return "WITH " + ",\n".join(parts) + "\nSELECT value FROM n"


@cache
def _stamp_in_one(tables: tuple[Table, ...]) -> Any:
    """The one statement for these tables, built once (a push writes the same few tables)."""
    return text(_stamp_statement(tables))


def stamp(session: Session, tables: tuple[Table, ...] = STAMPED_TABLES) -> int:
    """Give every unstamped row of `tables` (by default every synced table) this
    transaction's number; return it."""
    if session.get_bind().dialect.name == "postgresql":
        statement = _stamp_in_one(tables)
        # Through the connection: the ORM's execute hook would take this UPDATE for a write.
        value = session.connection().execute(statement).scalar()
        if value is not None:
            return int(value)
        session.execute(insert(ChangeCounter).values(id=1, value=0))  # a fresh database
        return int(session.connection().execute(statement).scalar_one())
    seq = next_seq(session)
    connection = session.connection()
    for table in tables:
        connection.execute(_sqlite_stamp(table), {"seq": seq})
    return seq


@cache
def _sqlite_stamp(table: Table) -> Any:
    values: dict[str, Any] = {"seq": bindparam("seq")}
    if "changed_at" in table.c:
        # Core updates apply `onupdate`; stamping is bookkeeping, not a change.
        values["changed_at"] = table.c.changed_at
    return update(table).where(table.c.seq.is_(None)).values(**values)


def mark_unstamped(session: Session, table: Table | None = None) -> None:
    """This transaction wrote synced rows of `table` (None: of any synced table) by a way
    the hooks below do not see (COPY, a text statement)."""
    session.info.setdefault(_PENDING, set()).add(ANY if table is None else table.name)


def unstamped_tables(session: Session) -> tuple[Table, ...]:
    """The synced tables this transaction wrote (after a flush), in STAMPED_TABLES' order."""
    pending = session.info.get(_PENDING)
    if not pending:
        return ()
    if ANY in pending:
        return STAMPED_TABLES
    return tuple(t for t in STAMPED_TABLES if t.name in pending)


def _after_flush(session: Session, _ctx: Any) -> None:
    for o in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(o), "__table__", None)
        if table is not None and table.name in _STAMPED_NAMES:
            mark_unstamped(session, table)


# A text statement does not say its table: one that writes may have written any.
_WRITES = re.compile(r"^\s*(?:WITH\b.*)?\b(?:INSERT|UPDATE|DELETE)\b", re.IGNORECASE | re.DOTALL)


def _on_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, TextClause):
        if _WRITES.match(statement.text):
            mark_unstamped(state.session)
    elif state.is_insert or state.is_update or state.is_delete:
        table = getattr(statement, "table", None)
        if table is None:
            mark_unstamped(state.session)  # a statement that does not say its table
        elif table.name in _STAMPED_NAMES:
            mark_unstamped(state.session, table)


def _before_commit(session: Session) -> None:
    # Flush first: commit would flush after this hook, leaving those rows unstamped.
    session.flush()
    tables = unstamped_tables(session)
    if tables:
        stamp(session, tables)
    session.info.pop(_PENDING, None)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Only when the whole transaction ends. A savepoint rolled back (a lost race on a unique
    # name, a dry run) leaves what the transaction wrote before it to be stamped at commit;
    # forgetting it there committed those rows unnumbered, and no pull ever sent them. Naming
    # a table the savepoint's rollback emptied again costs an UPDATE that finds nothing.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


_HOOKS: tuple[tuple[str, Any], ...] = (
    ("after_flush", _after_flush),
    ("do_orm_execute", _on_execute),
    ("before_commit", _before_commit),
    ("after_transaction_end", _after_transaction_end),
)


def install() -> None:
    """Number every commit of every session from now on. Idempotent.

    The hooks sit on SQLAlchemy's `Session` class, so sessions made by Flask-SQLAlchemy,
    by a script's `Session(engine)` or by a test all get them; but only once this has run:
    `webapp.registry.recording.install()` is the one call that the app factory, scripts and
    tests make. Without it, synced rows are committed with `seq` NULL and no pull sends them.
    """
    for name, hook in _HOOKS:
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


def installed() -> bool:
    return all(event.contains(Session, name, hook) for name, hook in _HOOKS)
