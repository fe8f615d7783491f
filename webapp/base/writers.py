"""SQLite's writers wait in line on a file lock, not in SQLite's busy handler.

SQLite lets one writer at a time hold the database. A second writer's BEGIN IMMEDIATE finds
it busy, and SQLite's busy handler sleeps and tries again after 1, 2, 5, 10, 15, 20, 25, 25,
25, 50, 50, 100 ms... A push holds the write lock for a few milliseconds, but a writer that
began its sleeps behind a few others slept on through many free moments: at 120 syncs/s
(`make load`'s open model, 3 workers of 4 threads) writers waited p99 0.5-0.7 s, and up to
2.8 s, for a lock that was free most of the time (RELIABILITY.md, "SQLite's writers").

So a transaction that begins IMMEDIATE first takes an exclusive lock (flock) on a file named
after the database, in the system's temporary directory. The kernel wakes the next waiter as
soon as the holder lets go, be it a thread of the same worker or of another; a process that
dies holding it lets go with its files. It is let go as soon as SQLite's COMMIT or ROLLBACK
has returned. SQLite's own lock stays the guard of the data: a writer from outside the app
(the sqlite3 shell, a restore) is waited for by SQLite's busy handler as before, and a line
file that is removed, or not shared (another host, another container's /tmp), costs only the
waits this saves, never a write.

Not beside the database: the folders holding databases are read by code that expects only
databases there (backups, the bench's kept districts). Not the database file itself nor its
-shm: closing any descriptor of a file drops the POSIX locks SQLite holds on it.

A writer waits at most `timeout` seconds (the busy timeout), then is told the database is
busy, as SQLite would tell it (a 503 with Retry-After at the API: webapp/errors.py).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
import tempfile
import threading
from typing import Any

from sqlalchemy.exc import OperationalError

# In the pooled connection's info: the descriptor holding the lock while its transaction lasts.
_HELD = "gridwalk_writer_fd"


class WriterLine:
    def __init__(self, database_path: str, timeout: float) -> None:
        named = hashlib.sha256(os.path.realpath(database_path).encode()).hexdigest()[:20]
        self.path = os.path.join(tempfile.gettempdir(), f"gridwalk-writers-{named}")
        self.timeout = timeout

    def take(self, info: dict[str, Any]) -> None:
        """Wait for this connection's turn to write (`info`: the pooled connection's)."""
        if _HELD in info:
            return
        # A descriptor of its own for each turn: a lock belongs to its open file, so two
        # connections of one process must not share one, and a waiter given up on (below)
        # must not hand a later turn a lock it has not taken.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not self._wait(fd):
                raise OperationalError(
                    "BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")) from None
        except BaseException:
            os.close(fd)
            raise
        info[_HELD] = fd

    def _wait(self, fd: int) -> bool:
        """Block in the kernel for the lock, at most `timeout`. flock itself has no time
        limit, so a helper thread blocks in it; if the wait is given up, the helper lets the
        lock go the moment it gets it."""
        got = threading.Event()
        guard = threading.Lock()
        abandoned = False

        def wait() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with guard:
                if abandoned:
                    os.close(fd)
                    return
                got.set()

        threading.Thread(target=wait, name="gridwalk-writer-wait", daemon=True).start()
        if got.wait(self.timeout):
            return True
        with guard:
            if got.is_set():
                return True  # it came as we gave up
            abandoned = True
        return False


def let_go(info: dict[str, Any]) -> None:
    """End this connection's turn, if it has one (closing the descriptor releases the lock)."""
    fd = info.pop(_HELD, None)
    if fd is not None:
        os.close(fd)
