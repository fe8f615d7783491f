"""Where a push's time goes, in process: figure 10's push (2,000 new records + 500 phone edits
in batches of 500, bench/wire.py's `work`) sent through Flask's test client, no network.

    .venv/bin/python -m bench.push_profile [--scale 4] [--rounds 8] [--json out.json]

Three readings of the same rounds (the first round warms up and is left out):
- wall time per round (median);
- each step of the push (`sync.push`'s, the request's parsing and answer, the commit's
  hooks), timed by wrappers around them;
- SQLite's own share: the time spent inside the sqlite3 driver's calls (execute,
  executemany, commit, fetches), read by cProfile in separate rounds. cProfile slows Python
  code several times but not the C calls it times, so this is the database's floor for the
  push as written (its rows, indexes, stamping, change log and receipts), before any Python.

Issue 17's target for the second push is 0.21 s through gunicorn; about 0.05 s of that is the
wire and the client (BENCHMARKS.md, figure 10's notes).
"""
from __future__ import annotations

import argparse
import cProfile
import collections
import functools
import gzip
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.dataset import PASSWORD, app_config, build, cells_by_code, make_coordinator, pick_cells
from bench.wire import BATCH, work

# (module, function, label): the steps timed by wrappers. Each is looked up where it is
# called from, so the wrapper replaces the name its caller uses.
STEPS = [("webapp.api.views", "_json_object", "request body (expand, parse)"),
         ("webapp.api.views", "parse_batch", "batch parsing"),
         ("webapp.api.views", "apply_batch", "apply_batch (all of it)"),
         ("sync.push", "_receipts", "  earlier receipts"),
         ("sync.push", "load", "  loading what it names"),
         ("sync.push", "own_failures", "  own earlier failures"),
         ("sync.push", "process", "  validating and merging"),
         ("sync.push", "write", "  writing records"),
         ("sync.echo", "tell", "  echo (what the server set)"),
         ("sync.push", "insert_rows", "  writing receipts"),
         ("webapp.registry.sequence", "stamp", "commit: stamping"),
         ("webapp.registry.changelog", "capture", "commit: change log"),
         ("webapp.api.views", "_answer", "answer (encode, compress)")]
SQLITE_CALLS = ("execute", "executemany", "commit", "fetchone", "fetchall", "fetchmany")


@contextmanager
def timed_steps(totals: dict[str, float]) -> Iterator[None]:
    import importlib

    undo: list[tuple[Any, str, Any]] = []
    for module_name, name, label in STEPS:
        module = importlib.import_module(module_name)
        original = getattr(module, name)

        def wrapper(*args: Any, _f: Callable[..., Any] = original, _label: str = label, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                totals[_label] += time.perf_counter() - start
        setattr(module, name, functools.wraps(original)(wrapper))
        undo.append((module, name, original))
    try:
        yield
    finally:
        for module, name, original in undo:
            setattr(module, name, original)


class InProcessPhone:
    """The field app's push (protocol 2, gzip bodies) through Flask's test client."""

    def __init__(self, app: Any, username: str) -> None:
        self.client = app.test_client()
        self.seq = 0
        self.token = ""
        self.token = self.call("/api/devices", {"username": username, "password": PASSWORD, "label": "profile",
                                                "app_version": "bench"})["token"]

    def call(self, path: str, body: Any) -> Any:
        data = json.dumps(body).encode()
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip", "Content-Type": "application/json"}
        if len(data) > 1024:
            data, headers["Content-Encoding"] = gzip.compress(data, 6), "gzip"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        answer = self.client.post(path, data=data, headers=headers)
        assert answer.status_code < 300, (answer.status_code, answer.data[:300])
        raw = gzip.decompress(answer.data) if answer.headers.get("Content-Encoding") == "gzip" else answer.data
        return json.loads(raw)

    def push(self, mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i in range(0, len(mutations), BATCH):
            out += self.call("/api/sync/push", {"protocol": 2, "app_version": "bench", "clock": "2026-11-26T08:00:05Z",
                                                "mutations": mutations[i:i + BATCH]})["outcomes"]
        return out


def sqlite_seconds(profile: cProfile.Profile) -> float:
    """Time inside the sqlite3 driver's own methods (C calls: cProfile adds little to them)."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = 0.0
    for (_file, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        if any(name == f"<method '{call}' of 'sqlite3.{kind}' objects>"
               for call in SQLITE_CALLS for kind in ("Cursor", "Connection")):
            total += tottime
    return total


def run(scale: float, rounds: int, new: int = 2000, edits: int = 500) -> dict[str, Any]:
    from webapp.app import create_app

    with tempfile.TemporaryDirectory(prefix="gw-push-profile-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'district.sqlite3'}"
        district = build("sqlite", url, scale, Path(tmp), say=lambda _s: None)
        area, houses = pick_cells(cells_by_code(district.engine), 0, 2000)
        make_coordinator(district.engine, "profile", area)
        phone = InProcessPhone(create_app(app_config(url)), "profile")

        def one_round() -> float:
            mutations = work(district.engine, phone, area, new, edits)  # type: ignore[arg-type]  # has .seq
            start = time.perf_counter()
            outcomes = phone.push(mutations)
            seconds = time.perf_counter() - start
            assert all(o["status"] == "applied" for o in outcomes), outcomes[:3]
            return seconds

        one_round()  # warm-up: the first push loads what later ones find in memory
        steps: dict[str, float] = collections.defaultdict(float)
        with timed_steps(steps):
            times = [one_round() for _ in range(rounds)]
        profile = cProfile.Profile()
        profiled = max(2, rounds // 2)
        for _ in range(profiled):
            mutations = work(district.engine, phone, area, new, edits)  # type: ignore[arg-type]
            profile.enable()
            phone.push(mutations)
            profile.disable()
        district.engine.dispose()
    return {"scale": scale, "houses": houses, "rounds": rounds, "mutations_per_round": new + edits,
            "seconds": {"median": round(statistics.median(times), 3), "all": [round(t, 3) for t in times]},
            "steps_ms": {k: round(v * 1000 / rounds, 1) for k, v in steps.items()},
            "sqlite_ms": round(sqlite_seconds(profile) * 1000 / profiled, 1)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    report = run(args.scale, args.rounds)
    print(json.dumps(report, indent=1, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
