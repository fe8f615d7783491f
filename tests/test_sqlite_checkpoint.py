"""SQLite's WAL is checkpointed by a thread, not by the commit that fills it (issue 17: a
2,500-mutation push spent 0.15 s of 0.75 s copying pages back inside its commits), and the
thread lets go of a database its engine is done with."""
from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from webapp.base import checkpoint
from webapp.base.dbsetup import configure_engine


def _engine(path: Path, checkpoint_ms: int) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    configure_engine(engine, checkpoint_ms=checkpoint_ms)
    return engine


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "registry.sqlite3"


def _fill(engine: Engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS house (id TEXT PRIMARY KEY, address TEXT)"))
        conn.execute(text("INSERT OR REPLACE INTO house VALUES (:id, :address)"),
                     [{"id": f"{n:032x}", "address": "民星路 " * 40} for n in range(rows)])


def _autocheckpoint(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def test_commits_leave_checkpoints_to_the_thread(database: Path) -> None:
    engine = _engine(database, checkpoint_ms=50)
    assert _autocheckpoint(engine) == checkpoint.BACKSTOP_PAGES  # only a backstop
    _fill(engine, 3000)  # several hundred pages of log
    deadline = time.monotonic() + 10
    while (done := checkpoint.last(str(database))) is None or done[1] == 0 or done[2] < done[1]:
        assert time.monotonic() < deadline, f"no full checkpoint by the thread: {done}"
        time.sleep(0.05)
    busy, frames, copied = done
    assert busy == 0 and copied == frames > 100
    engine.dispose()


def test_without_the_thread_sqlite_checkpoints_as_usual(database: Path) -> None:
    engine = _engine(database, checkpoint_ms=0)
    assert _autocheckpoint(engine) == 1000
    _fill(engine, 100)
    time.sleep(0.2)
    assert checkpoint.last(str(database)) is None
    engine.dispose()


def test_a_database_not_written_to_is_left_alone(database: Path) -> None:
    engine = _engine(database, checkpoint_ms=20)
    with engine.connect() as conn:  # read only: no commit
        conn.exec_driver_sql("SELECT 1").all()
    time.sleep(0.2)
    assert checkpoint.last(str(database)) is None
    engine.dispose()


def test_a_disposed_engines_directory_can_be_removed(tmp_path: Path) -> None:
    """A benchmark wrote, disposed its engine and removed its directory: the thread, still
    watching, opened the database once more and made its -wal and -shm again, and the
    removal failed ("Directory not empty"). Each round races the thread at 5 ms."""
    for round_ in range(40):
        folder = tmp_path / f"run{round_}"
        folder.mkdir()
        engine = _engine(folder / "registry.sqlite3", checkpoint_ms=5)
        _fill(engine, 50)
        engine.dispose()
        shutil.rmtree(folder)
        time.sleep(0.01)
        assert not folder.exists(), list(folder.iterdir())


def test_a_gone_file_is_never_created(database: Path) -> None:
    assert checkpoint.checkpoint(str(database)) is None
    assert not database.exists()
