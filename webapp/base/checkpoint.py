"""SQLite's WAL checkpoints, off the request path.

Left alone, SQLite checkpoints inside the commit that takes the write-ahead log past 1,000
pages: that commit copies the logged pages back into the database file and syncs it. A push
dirties a page per row and index entry (random UUID keys land on a different leaf each
time), so a 500-mutation push passed the mark about every other commit and paid for it:
0.15 s of a 2,500-mutation push's 0.75 s (bench.wire's push, in process).

Instead a thread in each process that writes checkpoints, every `interval` seconds, each
file committed to since, PASSIVE (it neither waits for nor holds up readers and writers; the
sqlite3 module lets go of the GIL meanwhile). Commits still checkpoint themselves past
BACKSTOP_PAGES, should the thread fall behind or be gone, so the log cannot grow without
bound.
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
    """One daemon thread per process for every SQLite file the process writes to.

    It checkpoints a file only after a commit to it (an idle database is never opened), and
    only while an engine that writes it is not disposed: an engine's owner that is done with
    the file (a finished test, a benchmark removing its directory, a restore) disposes it, and
    from then on the thread neither opens the file nor makes its -wal and -shm again.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._writers: dict[str, set[int]] = {}  # path → the engines (ids) writing it
        self._dirty: set[str] = set()  # paths committed to since their last checkpoint
        self._lock = threading.Lock()
        self._busy = threading.Lock()  # held while a checkpoint runs: `unwatch` waits for it
        self._pid = 0  # the thread runs in this process (a fork leaves the thread behind)
        self.last: dict[str, tuple[int, int, int]] = {}  # what each path's last checkpoint did

    def watch(self, path: str, engine: int) -> None:
        with self._lock:
            self._writers.setdefault(path, set()).add(engine)
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True).start()

    def written(self, path: str) -> None:
        # Under the lock: the thread iterates the set, and an add in the middle of that (a
        # commit on another thread) would end the thread with "set changed size".
        with self._lock:
            self._dirty.add(path)

    def unwatch(self, path: str, engine: int) -> None:
        """This engine is done with the file; returns once no checkpoint of it runs."""
        with self._busy, self._lock:
            writers = self._writers.get(path, set())
            writers.discard(engine)
            if not writers:
                self._writers.pop(path, None)
                self._dirty.discard(path)
                self.last.pop(path, None)

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            with self._lock:
                due = [p for p in self._dirty if p in self._writers]
                self._dirty.difference_update(due)
            for path in due:
                with self._busy:
                    if path not in self._writers:  # unwatched meanwhile
                        continue
                    done = checkpoint(path)
                    if done is not None:
                        self.last[path] = done


_checkpointers: dict[float, Checkpointer] = {}
_registry_lock = threading.Lock()


def checkpointer(interval: float) -> Checkpointer:
    """This process's checkpointer for `interval` seconds."""
    with _registry_lock:
        return _checkpointers.setdefault(interval, Checkpointer(interval))


def last(path: str) -> tuple[int, int, int] | None:
    """What the latest background checkpoint of `path` did, if one ran."""
    return next((c.last[path] for c in list(_checkpointers.values()) if path in c.last), None)
