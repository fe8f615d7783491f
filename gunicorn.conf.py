"""gunicorn's settings for `make run` and deployments: gunicorn reads ./gunicorn.conf.py from
the directory it starts in (pass `-c` to use another). Command-line flags override it."""
from __future__ import annotations

import gc
from typing import Any


def post_worker_init(worker: Any) -> None:
    # Everything loaded so far (modules, the app, compiled templates, the area-code table)
    # lives as long as the worker: take it out of the garbage collector's scans. Each full
    # collection otherwise walked ~190,000 such objects, and a 500-mutation push triggers
    # several: 11 ms of its ~105 ms (BENCHMARKS.md, figure 1). Objects still die by
    # reference counting as before; only cycles among these never-freed ones are skipped.
    gc.freeze()
