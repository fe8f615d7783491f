"""SQLite's WAL checkpoints, off the request path.

Left alone, SQLite checkpoints inside the commit that takes the write-ahead log past 1,000
pages: that commit copies the logged pages back into the database file and syncs it. A push
dirties a page per row and index entry (random UUID keys land on a different leaf each
time), so a 500-mutation push passed the mark about every other commit and paid for it:
0.15 s of a 2,500-mutation push's 0.75 s (bench.wire's push, in process).

Instead a thread in each process that writes checkpoints every `interval` seconds, PASSIVE
(it neither waits for nor holds up readers and writers; the sqlite3 module lets go of the
GIL meanwhile). Commits still checkpoint themselves past BACKSTOP_PAGES, should the thread
fall behind or be gone, so the log cannot grow without bound.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from urllib.parse import quote

# About 40 MB of 4 KB pages: a commit checkpoints itself only when the thread has not, for
# many pushes.
BACKSTOP_PAGES = 10_000


def checkpoint(path: str) -> tuple[int, int, int] | None:
    """One PASSIVE checkpoint of the database at `path`: (busy, frames in the log, frames
    copied), or None when the file is gone (a finished test's, a replaced database)."""
    try:
        # mode=rw: never create the file it checkpoints.
        conn = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=0, isolation_level=None)
    except sqlite3.OperationalError:
        return None
    try:
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return busy, frames, copied
    except sqlite3.OperationalError:  # locked by a restore, a schema change: next time
        return None
    finally:
        conn.close()


class Checkpointer:
    """One daemon thread per process for every SQLite file the process writes to."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._paths: set[str] = set()
        self._lock = threading.Lock()
        self._pid = 0  # the thread runs in this process (a fork leaves the thread behind)
        self.last: dict[str, tuple[int, int, int]] = {}  # what each path's last checkpoint did

    def watch(self, path: str) -> None:
        with self._lock:
            self._paths.add(path)
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            with self._lock:
                paths = list(self._paths)
            for path in paths:
                done = checkpoint(path)
                if done is not None:
                    self.last[path] = done
                elif not os.path.exists(path):
                    with self._lock:
                        self._paths.discard(path)
                        self.last.pop(path, None)


_checkpointers: dict[float, Checkpointer] = {}
_registry_lock = threading.Lock()


def watch(path: str, interval: float) -> Checkpointer:
    """Checkpoint `path` every `interval` seconds from this process's thread."""
    with _registry_lock:
        checkpointer = _checkpointers.setdefault(interval, Checkpointer(interval))
    checkpointer.watch(path)
    return checkpointer


def last(path: str) -> tuple[int, int, int] | None:
    """What the latest background checkpoint of `path` did, if one ran."""
    return next((c.last[path] for c in list(_checkpointers.values()) if path in c.last), None)
