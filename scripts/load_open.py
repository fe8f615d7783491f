"""`make load`, open model: syncs arrive at a fixed rate, as phones really do, whatever the
server's speed; the highest rate at which push and pull p99 stay under 500 ms is the capacity.

Each sync is one phone's push of 10 door visits, then its pull, over the phone's own
keep-alive connection, in protocol 2 (push gzip-compressed, answers in zstd), the pull carried
by the push as the field app asks it (one request; `--separate-pull`: two). Push latency is
then the push and its page; pull latency, that of any further pages. Arrivals are
spaced evenly at each rate for STEP seconds; a sync's latency counts from when it was due,
not from when a busy client got round to it (no coordinated omission). The server's CPU
(gunicorn and PostgreSQL, from /proc) per completed sync and per mutation is reported per rate.
The load client runs on the same two cores; its own CPU per sync is reported beside.

    .venv/bin/python -m scripts.load_open --rates 25,50,75,100,150,200 --step 20 [--workers 3]
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import io
import json
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import zstandard

from scripts.load import _postmaster, pct, seed, tree_cpu
from tests.faults import Gunicorn, PgCluster, app_env
from webapp.base.ids import new_id  # as the field app makes them (static/pwa/ids.js)

NOW = "2026-11-26T08:00:00Z"
P99_LIMIT_MS = 500


@dataclass
class Phone:
    port: int
    houses: list[str]
    protocol: int = 2
    token: str = ""
    seq: int = 0
    cursor: str | None = None
    busy: threading.Lock = field(default_factory=threading.Lock)
    connection: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Accept-Encoding": "zstd, gzip" if self.protocol >= 2 else "gzip"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            if self.protocol >= 2:  # the field app compresses with CompressionStream
                data = gzip.compress(data, 6)
                headers["Content-Encoding"] = "gzip"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):  # a keep-alive connection the server closed meanwhile: once more
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        if response.getheader("Content-Encoding") == "zstd":
            raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
        elif response.getheader("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        return response.status, json.loads(raw or b"null")

    def visits(self, n: int) -> list[dict[str, Any]]:
        out = []
        for i in range(n):
            self.seq += 1
            out.append({"id": str(new_id()), "seq": self.seq, "type": "visit", "op": "create",
                        "record_id": str(new_id()), "at": NOW,
                        "fields": {"house_id": self.houses[(self.seq + i) % len(self.houses)], "visited_at": NOW,
                                   "outcome": "verified", "plate_scanned": True, "note": "入户核查"}})
        return out


@dataclass
class Step:
    rate: float
    push_ms: list[float] = field(default_factory=list)
    pull_ms: list[float] = field(default_factory=list)
    sync_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mutations: int = 0
    late: int = 0  # arrivals that found every phone busy (dropped: the client is saturated)
    lock: threading.Lock = field(default_factory=threading.Lock)


def one_sync(phone: Phone, due: float, step: Step, batch: int, carry: bool = True) -> None:
    try:
        sent: dict[str, Any] = {"protocol": phone.protocol, "mutations": phone.visits(batch)}
        if carry and phone.protocol >= 2:  # the pull comes with the push, as the field app asks it
            sent["pull"] = {"cursor": phone.cursor, "limit": 10000}
        status, body = phone.call("POST", "/api/sync/push", sent)
        pushed = time.perf_counter()
        if status != 200 or any(o["status"] != "applied" for o in body["outcomes"]):
            step.errors.append(f"push {status} {str(body)[:120]}")
        carried = body.get("pull") if status == 200 else None
        if carried is not None:
            phone.cursor = carried["cursor"]
        for _ in range(5 if carried is None or carried["more"] else 0):
            path = f"/api/sync/pull?protocol={phone.protocol}&limit={10000 if phone.protocol >= 2 else 2000}" + \
                (f"&cursor={phone.cursor}" if phone.cursor else "")
            status, page = phone.call("GET", path)
            if status != 200:
                step.errors.append(f"pull {status} {str(page)[:120]}")
                break
            phone.cursor = page["cursor"]
            if not page["more"]:
                break
        done = time.perf_counter()
        with step.lock:
            # Push latency from when the sync was due; pull latency as the phone waits for it.
            step.push_ms.append((pushed - due) * 1000)
            step.pull_ms.append((done - pushed) * 1000)
            step.sync_ms.append((done - due) * 1000)
            step.mutations += batch
    except Exception as error:  # noqa: BLE001  (counted and reported)
        step.errors.append(f"{type(error).__name__}: {error}")
    finally:
        phone.busy.release()


def run_step(phones: list[Phone], rate: float, seconds: float, batch: int, pool: queue.Queue[Any],
             carry: bool = True) -> Step:
    step = Step(rate)
    interval = 1.0 / rate
    start = time.perf_counter() + 0.05
    n = int(rate * seconds)
    turn = 0
    for i in range(n):
        due = start + i * interval
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        for _ in range(len(phones)):  # the next phone not syncing already
            phone = phones[turn % len(phones)]
            turn += 1
            if phone.busy.acquire(blocking=False):
                pool.put((one_sync, (phone, due, step, batch, carry)))
                break
        else:
            step.late += 1
    return step


def worker(pool: queue.Queue[Any]) -> None:
    while (job := pool.get()) is not None:
        fn, args = job
        fn(*args)
        pool.task_done()
    pool.task_done()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phones", type=int, default=64)
    parser.add_argument("--rates", default="25,50,75,100,150,200")
    parser.add_argument("--step", type=float, default=20, help="seconds at each rate")
    parser.add_argument("--batch", type=int, default=10, help="visits per push")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn.conf.py's (one a core) unless given")
    parser.add_argument("--gunicorn-args", default="", help="added to gunicorn.conf.py's, e.g. '--worker-class sync'")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--protocol", type=int, choices=(1, 2), default=2, help="1: the old app's requests")
    parser.add_argument("--separate-pull", action="store_true",
                        help="protocol 2 without the pull carried by the push: two requests a sync")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    cluster = None
    if args.backend == "postgresql":
        cluster = PgCluster()
        cluster.start()
        url = cluster.url
    else:
        import tempfile

        url = f"sqlite:///{tempfile.mkdtemp(prefix='gw-load-')}/load.sqlite3"
    server = None
    try:
        print(f"seeding {args.phones} coordinators …", flush=True)
        users = seed(url, args.phones)
        server = Gunicorn({**app_env(url), "GUNICORN_CMD_ARGS": args.gunicorn_args}, workers=args.workers)
        server.start(seconds=120)
        phones = []
        for username, houses in users.items():
            phone = Phone(server.port, houses, args.protocol)
            status, body = phone.call("POST", "/api/devices", {"username": username, "password": "pw"})
            assert status == 201, body
            phone.token = body["token"]
            phone.call("GET", f"/api/sync/pull?protocol={args.protocol}&limit=10000")  # the first sync, before the clock
            phones.append(phone)
        pool: queue.Queue[Any] = queue.Queue()
        threads = [threading.Thread(target=worker, args=(pool,), daemon=True) for _ in range(args.phones)]
        for t in threads:
            t.start()
        pids = {"gunicorn": server.proc.pid if server.proc else 0,
                "postgresql": _postmaster(cluster.data) if cluster else 0}
        report: dict[str, Any] = {"phones": args.phones, "batch": args.batch, "workers": args.workers or os.cpu_count(),
                                  "protocol": args.protocol, "pull_carried": args.protocol >= 2 and not args.separate_pull,
                                  "gunicorn_args": args.gunicorn_args or "gunicorn.conf.py", "backend": args.backend,
                                  "steps": []}
        capacity = 0.0
        for rate in (float(r) for r in args.rates.split(",")):
            before = {k: tree_cpu(p) for k, p in pids.items() if p}
            client_before = time.process_time()
            wall = time.perf_counter()
            step = run_step(phones, rate, args.step, args.batch, pool, carry=not args.separate_pull)
            pool.join()
            wall = time.perf_counter() - wall
            cpu = {k: tree_cpu(p) - before[k] for k, p in pids.items() if p}
            client = time.process_time() - client_before
            syncs = len(step.sync_ms)
            row = {"rate": rate, "syncs": syncs, "achieved_per_s": round(syncs / wall, 1), "late": step.late,
                   "errors": len(step.errors),
                   "push_ms": {"p50": round(pct([x / 1000 for x in step.push_ms], 50)),
                               "p99": round(pct([x / 1000 for x in step.push_ms], 99))},
                   "pull_ms": {"p50": round(pct([x / 1000 for x in step.pull_ms], 50)),
                               "p99": round(pct([x / 1000 for x in step.pull_ms], 99))},
                   "server_cpu_ms_per_sync": round(sum(cpu.values()) * 1000 / max(syncs, 1), 1),
                   "server_cpu_ms_per_mutation": round(sum(cpu.values()) * 1000 / max(step.mutations, 1), 2),
                   "cpu_ms_per_sync": {k: round(v * 1000 / max(syncs, 1), 1) for k, v in cpu.items()},
                   # The load client shares the two cores: what it spends is not the server's to use.
                   "client_cpu_ms_per_sync": round(client * 1000 / max(syncs, 1), 1),
                   "load_average": round(os.getloadavg()[0], 1)}
            report["steps"].append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
            for line in step.errors[:3]:
                print("  error:", line, file=sys.stderr)
            ok = not step.errors and not step.late and row["push_ms"]["p99"] < P99_LIMIT_MS \
                and row["pull_ms"]["p99"] < P99_LIMIT_MS
            if ok:
                capacity = rate
            else:
                break  # past capacity: queues only grow from here
        report["capacity_syncs_per_s"] = capacity
        print(json.dumps({"capacity_syncs_per_s": capacity, "p99_limit_ms": P99_LIMIT_MS}), flush=True)
        for _ in threads:
            pool.put(None)
        if args.json:
            with open(args.json, "w") as out:
                json.dump(report, out, ensure_ascii=False, indent=1)
        return 0
    finally:
        if server is not None:
            server.stop()
        if cluster is not None:
            cluster.remove()


if __name__ == "__main__":
    sys.exit(main())
