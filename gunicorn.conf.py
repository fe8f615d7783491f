"""gunicorn's settings for `make run` and deployments: gunicorn reads ./gunicorn.conf.py from
the directory it starts in (pass `-c` to use another). Command-line flags override it."""
from __future__ import annotations

import gc
import os
from typing import Any

# Threaded workers keep a phone's connection open between the requests of one sync (a push,
# then a pull of a page or more): a sync is one TCP (and, behind the proxy, one TLS)
# handshake instead of one per request. Measured with `make load`'s open model on 2 cores
# (BENCHMARKS.md, "Open-model load"): the same 3 workers served 30 syncs/s under p99 500 ms
# against 20 with sync workers, at 27 instead of 32 ms of server CPU a sync. A waiting
# keep-alive connection holds no thread (gthread parks it in a selector).
# Four threads a worker also keep phones uploading slowly on a weak signal from holding a
# worker: with one, three such uploads stopped a three-worker server. On SQLite the threads
# compute one request at a time (webapp/base/gate.py, ONE_REQUEST_AT_A_TIME): four taking turns
# with the interpreter served 140 syncs/s where one at a time served 170–185 (RELIABILITY.md).
worker_class = "gthread"
# One worker a core. Each computes one request at a time on SQLite (above), so a third worker
# on two cores only took turns with the other two for the cores: `make load`'s open model
# (RELIABILITY.md, "One worker a core") held 185-215 syncs/s with two workers (200 or more in
# four runs of five), 185-200 with three, at 7.1-8.1 ms of gunicorn CPU a sync against
# 7.7-7.9. `--workers` (or WORKERS for `make run`) overrides it.
workers = os.cpu_count() or 2
threads = 4
keepalive = 10
# Access lines with the digits of what was typed masked (an ID or phone number in a query or
# a referrer): the log is kept and read apart from the app's own audit (webapp/oversight/accesslog.py).
logger_class = "webapp.oversight.accesslog.AccessLogger"
# A pull's cursor names the cells the phone holds (22 characters each, sync/pull.py) and
# travels in the request line: gunicorn's default 4,094 bytes held about 180 cells, its most
# 8,190 about 360 (a committee has 8-20; the centre's cursor says "every cell" in one).
limit_request_line = 8190


def post_worker_init(worker: Any) -> None:
    # Everything loaded so far (modules, the app, compiled templates, the area-code table)
    # lives as long as the worker: take it out of the garbage collector's scans. Each full
    # collection otherwise walked ~190,000 such objects, and a 500-mutation push triggers
    # several: 11 ms of its ~105 ms (BENCHMARKS.md, figure 1). Objects still die by
    # reference counting as before; only cycles among these never-freed ones are skipped.
    gc.freeze()
    # A young-generation scan every GC_YOUNG allocations instead of every 700: a push keeps
    # tens of thousands of short-lived rows and dicts alive while it works, and each scan
    # walked them again (19 ms of a 2,500-mutation push's ~400, measured in process with
    # gc.callbacks; 1.5 ms at 20,000). What dies by reference counting is freed as before;
    # only garbage in cycles waits a little longer for its scan.
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])


GC_YOUNG = 20_000
