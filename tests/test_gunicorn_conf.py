"""gunicorn.conf.py, which `make run` and deployments use: one worker a core, and each
worker, once its app is loaded, takes the long-lived objects out of the garbage collector's
scans."""
from __future__ import annotations

import gc
import os
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def test_a_worker_freezes_what_it_loaded() -> None:
    settings = runpy.run_path(str(CONF))
    assert gc.get_freeze_count() == 0
    try:
        settings["post_worker_init"](None)
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()


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
