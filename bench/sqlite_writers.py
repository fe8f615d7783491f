"""Figure 12: how long SQLite's writers wait for their turn, in line or in the busy handler.

Gunicorn's workers (processes of a few threads each) write to one SQLite file; SQLite lets
one writer in at a time. Each thread here writes as a push does: BEGIN IMMEDIATE, a row,
the lock held `hold` ms (a push of 10 visits), COMMIT, then a pause before its next write,
long enough that the lock is busy about four fifths of the time. The wait is from asking
for BEGIN to having it. Measured twice on the same file: with the app's line of writers
(webapp/base/writers.py: a file lock the kernel hands on at once) and with SQLite's busy
handler alone, as before it (sleeps of 1, 2, 5, 10 ... 100 ms between tries).

    .venv/bin/python -m bench.sqlite_writers [--processes 3] [--threads 4] [--writes 150] [--write]

With --write it replaces its section of BENCHMARKS.md (between markers); `make bench` runs it.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.report import write_section
from webapp.base import writers
from webapp.base.dbsetup import configure_engine

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- bench.sqlite_writers -->", "<!-- /bench.sqlite_writers -->"
HOLD_MS = 3.0  # a push of 10 visits holds SQLite's write lock about this long
PAUSE_MS = (20.0, 60.0)  # between a thread's writes: the lock is busy ~4/5 of the time at 3 x 4


def _worker(path: str, line: bool, threads: int, writes: int, seed: int) -> list[float]:
    """One process's threads; the waits in ms."""
    if not line:
        writers.WriterLine.take = lambda self, info: None  # type: ignore[method-assign]
    engine = create_engine(f"sqlite:///{path}", pool_size=threads)
    configure_engine(engine)
    waits: list[float] = []
    guard = threading.Lock()

    def write(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        for _ in range(writes):
            time.sleep(rng.uniform(*PAUSE_MS) / 1000)
            with engine.connect() as conn:
                asked = time.perf_counter()
                conn.begin()
                conn.execute(text("INSERT INTO visit (note) VALUES ('入户核查')"))
                waited = (time.perf_counter() - asked) * 1000
                time.sleep(HOLD_MS / 1000)
                conn.commit()
            with guard:
                waits.append(waited)

    pool = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    engine.dispose()
    return waits


def one(line: bool, processes: int, threads: int, writes: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gw-writers-") as folder:
        path = str(Path(folder) / "writers.sqlite3")
        engine = create_engine(f"sqlite:///{path}")
        configure_engine(engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE visit (id INTEGER PRIMARY KEY, note TEXT)"))
        engine.dispose()
        began = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            parts = pool.starmap(_worker, [(path, line, threads, writes, p) for p in range(processes)])
        seconds = time.perf_counter() - began
    waits = sorted(w for part in parts for w in part)
    n = len(waits)
    return {"line": line, "writes": n, "writes_per_s": round(n / seconds, 1),
            "p50_ms": round(waits[n // 2], 2), "p90_ms": round(waits[int(n * 0.9)], 2),
            "p99_ms": round(waits[min(n - 1, int(n * 0.99))], 2), "max_ms": round(waits[-1], 2)}


def section(results: list[dict[str, Any]], processes: int, threads: int, seconds: float, command: str) -> str:
    out = [BEGIN, "## SQLite's writers: in line, or in the busy handler (figure 12)", "",
           f"Written by `{command}` (bench/sqlite_writers.py; `make bench` runs it) in {seconds:.0f} s. "
           f"{processes} processes of {threads} threads (as gunicorn's workers) write to one SQLite file: "
           f"BEGIN IMMEDIATE, a row, the lock held {HOLD_MS:g} ms (a push of 10 visits), COMMIT, then a pause of "
           f"{PAUSE_MS[0]:g}-{PAUSE_MS[1]:g} ms, so the lock is busy about four fifths of the time. The wait is "
           "from asking for BEGIN to having it. The app's writers wait in line on a file lock the kernel hands "
           "on at once (webapp/base/writers.py); before it, in SQLite's busy handler, which sleeps 1, 2, 5, "
           "10 ... 100 ms between tries.", "",
           "| writers wait | writes | writes/s | wait p50 ms | p90 | p99 | max |",
           "|---|---|---|---|---|---|---|"]
    for r in results:
        name = "in line (the app)" if r["line"] else "in SQLite's busy handler (before)"
        out.append(f"| {name} | {r['writes']:,} | {r['writes_per_s']:g} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | "
                   f"{r['p99_ms']:.2f} | {r['max_ms']:.2f} |")
    return "\n".join(out + ["", END])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--writes", type=int, default=150, help="per thread")
    parser.add_argument("--write", action="store_true", help="replace figure 12 in BENCHMARKS.md")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    results = []
    for line in (True, False):
        results.append(one(line, args.processes, args.threads, args.writes))
        print(json.dumps(results[-1]), flush=True)
    if args.write:
        command = "python -m bench.sqlite_writers" + (" " + " ".join(argv) if argv else "")
        write_section(ROOT / "BENCHMARKS.md", section(results, args.processes, args.threads,
                                                      time.perf_counter() - began, command), BEGIN, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
