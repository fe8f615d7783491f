"""SQLite's writers wait in line on a file lock (webapp/base/writers.py), not in SQLite's
busy handler, whose growing sleeps kept writers waiting up to 2.8 s at 120 syncs/s for a
lock that was free most of the time (issue 17)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from webapp.base.dbsetup import configure_engine, reads_only

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "registry.sqlite3"
    with create_engine(f"sqlite:///{path}").begin() as conn:
        conn.execute(text("CREATE TABLE visit (id INTEGER PRIMARY KEY, note TEXT)"))
    return path


@pytest.fixture
def engine(database: Path) -> Iterator[Engine]:
    engine = _engine(database)
    yield engine
    engine.dispose()


def _engine(path: Path, busy_timeout_ms: int = 10_000) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    configure_engine(engine, busy_timeout_ms=busy_timeout_ms)
    return engine


def _write(conn: Connection, note: str) -> None:
    conn.execute(text("INSERT INTO visit (note) VALUES (:note)"), {"note": note})


def _impatient(conn: Connection) -> Connection:
    """SQLite itself gives up at once on this connection: a writer that reached BEGIN
    IMMEDIATE while another held the database would fail, not wait."""
    conn.connection.dbapi_connection.execute("PRAGMA busy_timeout = 0")  # type: ignore[union-attr]
    return conn


def _later(work: object) -> tuple[threading.Thread, list[BaseException | None]]:
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            work()  # type: ignore[operator]
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_second_writer_waits_for_its_turn_and_never_meets_a_busy_database(engine: Engine) -> None:
    """On the code before the line, the second BEGIN IMMEDIATE met SQLite's lock: with
    SQLite's own wait at zero it failed with "database is locked"."""
    first = engine.connect()
    first.begin()
    _write(first, "first")

    def second() -> None:
        with _impatient(engine.connect()) as conn, conn.begin():
            _write(conn, "second")

    thread, outcome = _later(second)
    thread.join(0.3)
    assert thread.is_alive(), "the second writer should wait while the first one writes"
    first.commit()
    first.close()
    thread.join(10)
    assert outcome == [None]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT note FROM visit ORDER BY id")).scalars().all() == ["first", "second"]


@pytest.mark.parametrize("ending", ["rollback", "close", "invalidate"])
def test_a_writer_lets_go_however_its_transaction_ends(engine: Engine, ending: str) -> None:
    first = engine.connect()
    first.begin()
    _write(first, "first")
    getattr(first, ending)()
    with _impatient(engine.connect()) as conn, conn.begin():
        _write(conn, "second")
    first.close()


def test_readers_never_wait_for_the_line(engine: Engine) -> None:
    with engine.connect() as writer, writer.begin():
        _write(writer, "first")
        with reads_only(), _impatient(engine.connect()) as reader, reader.begin():
            assert reader.execute(text("SELECT count(*) FROM visit")).scalar_one() == 0


def test_a_writer_that_waits_past_the_busy_timeout_is_told_the_database_is_busy(database: Path) -> None:
    engine = _engine(database, busy_timeout_ms=200)
    first = engine.connect()
    first.begin()
    _write(first, "first")
    started = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"), engine.connect() as conn:
        conn.begin()
    assert time.monotonic() - started >= 0.2
    first.commit()
    first.close()
    # The wait given up on lets the lock go as soon as it gets it: the next writer gets in.
    with _impatient(engine.connect()) as conn, conn.begin():
        _write(conn, "after")
    engine.dispose()


HOLDER = """
import sys, time
sys.path.insert(0, {root!r})
from sqlalchemy import create_engine, text
from webapp.base.dbsetup import configure_engine
engine = create_engine("sqlite:///" + {path!r})
configure_engine(engine)
conn = engine.connect()
conn.begin()
conn.execute(text("INSERT INTO visit (note) VALUES ('never committed')"))
print("holding", flush=True)
time.sleep(120)
"""


def test_a_worker_killed_while_writing_lets_go(engine: Engine, database: Path) -> None:
    """Another process (a gunicorn worker killed on its timeout) holding its turn: the kernel
    releases the lock with the process, and SQLite rolls its transaction back."""
    with subprocess.Popen([sys.executable, "-c", HOLDER.format(root=str(ROOT), path=str(database))],
                          stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait(10)
            with _impatient(engine.connect()) as conn, conn.begin():
                _write(conn, "after")
            with engine.connect() as conn:
                assert conn.execute(text("SELECT note FROM visit")).scalars().all() == ["after"]
        finally:
            holder.kill()
