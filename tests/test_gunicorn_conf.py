"""gunicorn.conf.py, which `make run` and deployments use: one worker a core, and each
worker, once its app is loaded, takes the long-lived objects out of the garbage collector's
scans and scans the young ones less often."""
from __future__ import annotations

import gc
import os
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def test_a_worker_freezes_what_it_loaded_and_scans_young_objects_less_often() -> None:
    settings = runpy.run_path(str(CONF))
    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    try:
        settings["post_worker_init"](None)
        assert gc.get_freeze_count() > 1000
        assert gc.get_threshold() == (settings["GC_YOUNG"], *before[1:]) and settings["GC_YOUNG"] > before[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_a_sync_is_one_connection() -> None:
    """Threaded workers with keep-alive: a phone's push and pulls share one connection
    (bench/wire.py counts them: figure 10)."""
    settings = runpy.run_path(str(CONF))
    assert settings["worker_class"] == "gthread" and settings["threads"] >= 2 and settings["keepalive"] >= 5


def test_one_worker_a_core() -> None:
    """On SQLite each worker computes one request at a time (webapp/base/gate.py): a worker
    more than the cores only takes turns for them (RELIABILITY.md, "One worker a core")."""
    settings = runpy.run_path(str(CONF))
    assert settings["workers"] == (os.cpu_count() or 2)


def test_a_pull_for_300_cells_fits_in_the_request_line() -> None:
    """The cursor travels in the pull's query: a phone whose request line is refused cannot
    sync at all."""
    import uuid

    from sync.pull import Cursor

    settings = runpy.run_path(str(CONF))
    cells = frozenset(uuid.uuid4() for _ in range(300))
    cursor = Cursor(10**12, 10**12 + 5, 7, 10**12, str(uuid.uuid4()), held=cells).encode(b"k", 10**6, "grid_lead")
    line = f"GET /api/sync/pull?protocol=2&limit=10000&cursor={cursor} HTTP/1.1"
    assert len(line) <= settings["limit_request_line"]
