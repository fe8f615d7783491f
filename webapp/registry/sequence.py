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

from typing import Any, cast

from sqlalchemy import Table, event, insert, select, text, update
from sqlalchemy.orm import ORMExecuteState, Session

from webapp.models import SYNCED_MODELS, ChangeCounter, ScopeChange, Synced

STAMPED_TABLES: tuple[Table, ...] = tuple(
    cast(Table, m.__table__) for m in (*SYNCED_MODELS, ScopeChange))
_PENDING = "gridwalk_unstamped"


def next_seq(session: Session) -> int:
    """Take the next number; the row stays locked until this transaction ends."""
    value = session.execute(
        update(ChangeCounter).where(ChangeCounter.id == 1)
        .values(value=ChangeCounter.value + 1).returning(ChangeCounter.value)
    ).scalar()
    if value is None:  # a fresh database without the seeded row
        session.execute(insert(ChangeCounter).values(id=1, value=1))
        value = 1
    return int(value)


def committed_seq(session: Session) -> int:
    """The highest number whose changes are all committed and visible."""
    return int(session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0)


def _stamp_statement() -> str:
    # Data-modifying CTEs run on one snapshot, which holds this transaction's own unstamped
    # rows; each UPDATE finds them through its table's partial index (seq IS NULL). Writing
    # seq alone leaves changed_at as it was: stamping is bookkeeping, not a change.
    counter = cast(Table, ChangeCounter.__table__).name
    parts = [f"n AS (UPDATE {counter} SET value = value + 1 WHERE id = 1 RETURNING value)"]
    parts += [f"s{i} AS (UPDATE {t.name} SET seq = (SELECT value FROM n) WHERE seq IS NULL)"
              for i, t in enumerate(STAMPED_TABLES)]
    return "WITH " + ",\n".join(parts) + "\nSELECT value FROM n"


STAMP_IN_ONE = text(_stamp_statement())


def stamp(session: Session) -> int:
    """Give every unstamped synced row this transaction's number; return it."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.execute(STAMP_IN_ONE).scalar()
        if value is not None:
            return int(value)
        session.execute(insert(ChangeCounter).values(id=1, value=0))  # a fresh database
        return int(session.execute(STAMP_IN_ONE).scalar_one())
    seq = next_seq(session)
    for table in STAMPED_TABLES:
        values: dict[str, Any] = {"seq": seq}
        if "changed_at" in table.c:
            # Core updates apply `onupdate`; stamping is bookkeeping, not a change.
            values["changed_at"] = table.c.changed_at
        session.execute(update(table).where(table.c.seq.is_(None)).values(**values))
    return seq


def mark_unstamped(session: Session) -> None:
    """This transaction wrote synced rows by a way the hooks below do not see (COPY)."""
    session.info[_PENDING] = True


def has_unstamped(session: Session) -> bool:
    """Whether this transaction wrote synced rows still to be numbered (after a flush)."""
    return bool(session.info.get(_PENDING))


def _after_flush(session: Session, _ctx: Any) -> None:
    if any(isinstance(o, Synced) for o in (*session.new, *session.dirty, *session.deleted)):
        mark_unstamped(session)


def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is None or table in STAMPED_TABLES:
            mark_unstamped(state.session)


def _before_commit(session: Session) -> None:
    # Flush first: commit would flush after this hook, leaving those rows unstamped.
    session.flush()
    if session.info.pop(_PENDING, False):
        stamp(session)
        session.info.pop(_PENDING, None)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


_HOOKS: tuple[tuple[str, Any], ...] = (
    ("after_flush", _after_flush),
    ("do_orm_execute", _on_execute),
    ("before_commit", _before_commit),
    ("after_rollback", _after_rollback),
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
