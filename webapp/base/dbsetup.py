"""Per-connection database settings.

SQLite behind several gunicorn workers: WAL so readers never block the writer, a busy
timeout so a second writer waits instead of failing, foreign keys on (they are off by
default per connection), and SQLAlchemy's recipe of emitting BEGIN ourselves so that a
transaction that reads and then writes takes the write lock at its start (BEGIN
IMMEDIATE) instead of failing with SQLITE_BUSY half-way through.

Read-only work (a GET request) begins DEFERRED instead: under WAL it then never waits for,
nor holds up, a writer. Which one applies is a context variable, so the web layer can say
"this request only reads" without the services knowing. Writers of a database file wait
for their turn on a file lock before their BEGIN IMMEDIATE (webapp/base/writers.py).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from webapp.base import checkpoint, writers

SQLITE_MMAP_BYTES = 4 << 30  # larger than a district's registry (~1 GB at demo scale 40)

# "IMMEDIATE" unless the caller declared that it only reads.
sqlite_begin: ContextVar[str] = ContextVar("sqlite_begin", default="IMMEDIATE")


@contextmanager
def reads_only() -> Iterator[None]:
    token = sqlite_begin.set("DEFERRED")
    try:
        yield
    finally:
        sqlite_begin.reset(token)


def writes_on_get(view: Any) -> Any:
    """Mark a view that writes even on GET (an audit row), so it begins IMMEDIATE."""
    view.writes_on_get = True
    return view


def configure_engine(engine: Engine, busy_timeout_ms: int = 10_000, checkpoint_ms: int = 0) -> None:
    """`checkpoint_ms` > 0: a thread checkpoints the WAL that often instead of the commits
    (webapp/base/checkpoint.py); 0 leaves it to SQLite, in the commit past 1,000 pages."""
    if engine.dialect.name != "sqlite":
        return
    database = engine.url.database
    on_file = database not in (None, "", ":memory:")
    # A plain path only: the thread opens the file itself (a file: URI keeps SQLite's way).
    path = os.path.abspath(database) if on_file and database and not database.startswith("file:") else None
    background = checkpoint.checkpointer(checkpoint_ms / 1000) if checkpoint_ms > 0 and path else None
    if background is not None and path:
        _checkpoint_in_background(engine, background, path)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Stop pysqlite from issuing its own BEGIN; we emit ours in _on_begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys = ON")
        if on_file:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            # Reads through a memory map instead of a read() per page: the district-wide
            # GROUP BYs of grading and coverage look up persons and houses at random, and
            # the 2 MB page cache cannot hold a 1 GB registry. Address space, not memory:
            # the pages are the OS's file cache, shared by every worker.
            cur.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
            if background is not None and path:
                cur.execute(f"PRAGMA wal_autocheckpoint = {checkpoint.BACKSTOP_PAGES}")
                background.watch(path, id(engine))
        cur.close()

    line = writers.WriterLine(path, busy_timeout_ms / 1000) if path else None

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = sqlite_begin.get()
        if line is None or mode == "DEFERRED":
            conn.exec_driver_sql(f"BEGIN {mode}")
            return
        info = conn.connection.info
        line.take(info)  # a writer's turn first (webapp/base/writers.py)
        try:
            conn.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            writers.let_go(info)
            raise

    if line is not None:
        _let_go_when_done(engine)


def _let_go_when_done(engine: Engine) -> None:
    """A writer's turn ends once SQLite's COMMIT or ROLLBACK has returned (the engine's
    "commit" and "rollback" events come before them), or with its connection."""
    dialect = engine.dialect
    for name in ("do_commit", "do_rollback"):
        done = getattr(dialect, name)

        def then_let_go(dbapi_connection: Any, done: Any = done) -> None:
            try:
                done(dbapi_connection)
            finally:
                _let_go_of(dbapi_connection)

        setattr(dialect, name, then_let_go)

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_conn: Any, record: Any) -> None:
        writers.let_go(record.info)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_conn: Any, record: Any, _exception: Any) -> None:
        writers.let_go(record.info)


def _let_go_of(dbapi_connection: Any) -> None:
    try:
        info = dbapi_connection.info  # the pool's proxy: its record's info
    except (AttributeError, NotImplementedError):
        return  # the dialect's first look at a new connection: never a writer's turn
    writers.let_go(info)


def _checkpoint_in_background(engine: Engine, background: checkpoint.Checkpointer, path: str) -> None:
    """Tell the thread of every commit to `path`, and stop it when the engine is disposed."""

    @event.listens_for(engine, "commit")
    def _on_commit(_conn: Any) -> None:
        background.written(path)

    @event.listens_for(engine, "engine_disposed")
    def _on_dispose(_engine: Any) -> None:
        background.unwatch(path, id(engine))  # connecting again watches again


def refresh_statistics(session: Any) -> None:
    """After a bulk load (the demo seed, an extract import, a restore), tell PostgreSQL's
    planner what the tables now hold: with the statistics of empty tables a first pull planned
    nested loops over everything and ran past the worker timeout until autovacuum's ANALYZE,
    about a minute later. Commits first (ANALYZE should see the rows). SQLite: nothing to do."""
    from sqlalchemy import text

    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()
