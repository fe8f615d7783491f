"""Figure 11: a phone's everyday pull against its area's history.

A coordinator's phone has sent `history` door visits in its area (so its area holds that many
visits and the phone that many receipts); then steady syncs follow, each another phone's 30
visits in the same area, this phone's push of 10 and its pull. The pull's CPU (this process:
the app behind Flask's test client, the database's work included on SQLite) should not grow
with the history: it has a few dozen rows to send either way. On SQLite it did, from 5.5 ms
with no history to 35 ms after 40,000 visits (sync/pull.py: SQLite let the area drive every
incremental query and read all of its past rows; tests/test_pull_plans.py).

    .venv/bin/python -m bench.pull_history [--histories 0,10000,40000] [--syncs 100]
        [--backends sqlite,postgresql] [--write]

With --write it replaces its section of BENCHMARKS.md (between markers); `make bench` runs it.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import zstandard
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.base.ids import new_id  # as the field app makes them (static/pwa/ids.js)
from bench.dataset import PASSWORD, app_config, build, cells_by_code, make_coordinator, pick_cells
from bench.report import write_section
from webapp.models import House

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- bench.pull_history -->", "<!-- /bench.pull_history -->"
GROWTH_LIMIT = 1.5  # the pull after the most history against none: "does not grow"
BATCH = 500  # the field app's push batch


class Phone:
    """One device of the app under test, over Flask's test client, as the field app syncs."""

    def __init__(self, client: Any, username: str, houses: list[str]) -> None:
        self.client, self.houses, self.seq, self.cursor = client, houses, 0, None
        answer = client.post("/api/devices", json={"username": username, "password": PASSWORD,
                                                   "label": username, "app_version": "bench"})
        assert answer.status_code == 201, answer.get_data(as_text=True)[:300]
        self.headers = {"Authorization": f"Bearer {answer.get_json()['token']}", "Accept-Encoding": "zstd"}

    def push(self, visits: int) -> None:
        mutations = []
        for _ in range(visits):
            self.seq += 1
            mutations.append({"id": str(new_id()), "seq": self.seq, "type": "visit", "op": "create",
                              "record_id": str(new_id()), "at": "2026-11-26T08:00:00Z",
                              "fields": {"house_id": self.houses[self.seq % len(self.houses)],
                                         "visited_at": "2026-11-26T08:00:00Z", "outcome": "verified",
                                         "plate_scanned": True}})
        body = gzip.compress(json.dumps({"protocol": 2, "mutations": mutations}).encode())
        answer = self.client.post("/api/sync/push", data=body, headers={
            **self.headers, "Content-Type": "application/json", "Content-Encoding": "gzip"})
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]

    def pull(self) -> int:
        rows = 0
        while True:
            query = "protocol=2&limit=10000" + (f"&cursor={self.cursor}" if self.cursor else "")
            answer = self.client.get(f"/api/sync/pull?{query}", headers=self.headers)
            assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
            raw = answer.data
            if answer.headers.get("Content-Encoding") == "zstd":
                raw = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
            page = json.loads(raw)
            rows += page["count"]
            self.cursor = page["cursor"]
            if not page["more"]:
                return rows


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'history.sqlite3'}"
        return
    from tests.pg import pg_cluster

    with pg_cluster() as url:
        yield url


def one(backend: str, history: int, syncs: int, houses: int) -> dict[str, Any]:
    """A fresh scale-1 district, `history` visits sent by the phone, then `syncs` steady syncs."""
    from webapp.app import create_app
    from webapp.extensions import db

    with tempfile.TemporaryDirectory(prefix="gw-history-") as folder, database(backend, Path(folder)) as url:
        district = build(backend, url, 1, Path(folder), say=lambda _s: None)
        area, _n = pick_cells(cells_by_code(district.engine), 0, houses)
        for name in ("phone", "neighbour"):
            make_coordinator(district.engine, name, area)
        with Session(district.engine) as s:
            ids = [str(h) for h in s.scalars(select(House.id).where(House.cell_id.in_(area), House.deleted_at.is_(None)))]
        app = create_app(app_config(url))
        client = app.test_client()
        phone, neighbour = Phone(client, "phone", ids), Phone(client, "neighbour", ids)
        phone.pull()
        for _ in range(history // BATCH):
            phone.push(BATCH)
        if backend == "postgresql":
            with app.app_context():  # as autovacuum would have by now: planner statistics
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
        phone.pull()
        cpu, rows = 0.0, 0
        for n in range(20 + syncs):  # the first 20 warm the process up
            neighbour.push(30)
            phone.push(10)
            start = time.process_time()
            got = phone.pull()
            if n >= 20:
                cpu, rows = cpu + time.process_time() - start, rows + got
        with app.app_context():
            db.engine.dispose()
        district.engine.dispose()
    return {"backend": backend, "history": history, "pull_cpu_ms": round(1000 * cpu / syncs, 2),
            "rows_per_pull": round(rows / syncs, 1), "houses": len(ids)}


def section(results: list[dict[str, Any]], seconds: float, command: str) -> str:
    out = [BEGIN, "## A phone's pull against its area's history (figure 11)", "",
           f"Written by `{command}` (bench/pull_history.py; `make bench` runs it) in {seconds:.0f} s. A "
           f"coordinator's phone in a {results[0]['houses']:,}-house area of the scale-1 district sends its "
           "history of door visits (the area holds them, the phone has that many receipts); then each sync is "
           "a neighbour's 30 visits in the same area, the phone's push of 10 and its pull. CPU of the pull in "
           "process (Flask's test client; on SQLite the database's work is in it), mean of the syncs. The "
           "pull has the same few dozen rows to send whatever the history; its cost should not follow it "
           f"(target: at most {GROWTH_LIMIT}× the pull with no history). PostgreSQL analysed after the "
           "history, as autovacuum does.", "",
           "| backend | past visits in the area | rows a pull | pull CPU ms | × no history | target | |",
           "|---|---|---|---|---|---|---|"]
    for r in results:
        base = next(x for x in results if x["backend"] == r["backend"] and x["history"] == 0)
        ratio = r["pull_cpu_ms"] / base["pull_cpu_ms"]
        met = "—" if r["history"] == 0 else ("met" if ratio <= GROWTH_LIMIT else "**missed**")
        out.append(f"| {r['backend']} | {r['history']:,} | {r['rows_per_pull']:g} | {r['pull_cpu_ms']:.2f} | "
                   f"{ratio:.2f}× | ≤ {GROWTH_LIMIT}× | {met} |")
    return "\n".join(out + ["", END])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--histories", default="0,10000,40000")
    parser.add_argument("--syncs", type=int, default=100)
    parser.add_argument("--houses", type=int, default=250)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--write", action="store_true", help="replace figure 11 in BENCHMARKS.md")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    results = []
    for backend in args.backends.split(","):
        for history in (int(h) for h in args.histories.split(",")):
            results.append(one(backend, history, args.syncs, args.houses))
            print(json.dumps(results[-1]), flush=True)
    if args.write:
        command = "python -m bench.pull_history" + (" " + " ".join(argv) if argv else "")
        write_section(ROOT / "BENCHMARKS.md", section(results, time.perf_counter() - began, command), BEGIN, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
