"""`make load`: ≥ 200 simulated phones pushing and pulling for 60 s against gunicorn on PostgreSQL.

Starts its own throwaway PostgreSQL cluster and gunicorn on loopback ports, seeds cells with
houses and occupants, registers one device per coordinator (before the clock starts), then
each phone loops: push a realistic batch (door visits, now and then a new occupant with a
residency), pull its changes. It stops by itself after DURATION seconds, checks that the
database holds exactly the mutations sent, once each, prints throughput and p50/p99 latency,
and exits non-zero on any error or mismatch.

With --profile it also says where the time went: every half second it samples what each
PostgreSQL backend is doing (pg_stat_activity state and wait event, what it runs, and for a
backend waiting on a lock the statement of the one holding it), and it reports the CPU
seconds spent by gunicorn, PostgreSQL and this load client.

    .venv/bin/python -m scripts.load --devices 200 --seconds 60 --workers 8 [--profile]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import _migrate, valid_id
from tests.faults import Gunicorn, Http, PgCluster, app_env

NOW = "2026-11-26T08:00:00Z"


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latency: dict[str, list[float]] = field(default_factory=lambda: {"push": [], "pull": []})
    errors: list[str] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latency[kind].append(seconds)


def seed(url: str, devices: int, per_cell: int = 10, houses_per_cell: int = 25,
         analyze: bool = True) -> dict[str, list[str]]:
    """Cells of `per_cell` coordinators each; returns username → house ids of their cell."""
    _migrate(url)
    engine = create_engine(url)
    out: dict[str, list[str]] = {}
    with Session(engine) as s:
        com = f.committee(s, name="压测居委")
        for c in range((devices + per_cell - 1) // per_cell):
            cell = f.cell(s, com)
            houses = [f.house(s, cell) for _ in range(houses_per_cell)]
            for i, house in enumerate(houses):
                f.residency(s, f.person(s, name=f"住户{c}-{i}", id_number=valid_id(f"310117198{c % 10}01{i % 28 + 1:02d}{c % 1000:03d}")), house)
            for k in range(per_cell):
                name = f"load{c * per_cell + k:04d}"
                if len(out) < devices:
                    cell.coordinators.append(f.user(s, name, "coordinator"))
                    out[name] = [str(h.id) for h in houses]
            s.commit()
    if analyze:
        # A live registry has planner statistics (autovacuum keeps them); a freshly seeded
        # cluster has none until autovacuum wakes, and without them PostgreSQL nests loops
        # over the pull's scope query (~1 s of CPU per first sync instead of < 1 ms).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return out


def batch(rng: random.Random, houses: list[str], seq: int, device_no: int) -> list[dict[str, Any]]:
    """5–20 door visits; one time in four also a new occupant and their residency."""
    out = []
    for _ in range(rng.randint(5, 20)):
        out.append({"id": str(uuid.uuid4()), "seq": seq, "type": "visit", "op": "create", "record_id": str(uuid.uuid4()),
                    "at": NOW, "fields": {"house_id": rng.choice(houses), "visited_at": NOW, "outcome": "verified",
                                          "plate_scanned": True, "note": "入户核查"}})
        seq += 1
    if rng.random() < 0.25:
        person = str(uuid.uuid4())
        number = valid_id(f"{rng.choice(['110105', '440524', '320102'])}19{rng.randint(60, 99)}0{rng.randint(1, 9)}"
                          f"{rng.randint(10, 28)}{rng.randint(0, 999):03d}")
        out.append({"id": str(uuid.uuid4()), "seq": seq, "type": "person", "op": "create", "record_id": person,
                    "at": NOW, "fields": {"name": f"新住户{device_no}-{seq}", "id_type": "resident",
                                          "id_number": number, "category": "migrant"}})
        out.append({"id": str(uuid.uuid4()), "seq": seq + 1, "type": "residency", "op": "create",
                    "record_id": str(uuid.uuid4()), "at": NOW,
                    "fields": {"person_id": person, "house_id": rng.choice(houses), "start_date": "2026-11-20"}})
    return out


def register(base: str, username: str, stats: Stats) -> Http | None:
    """Log the phone in once, before the clock starts: a login hashes a password on purpose
    slowly, and 200 at once on a small machine is not what the load measures."""
    phone = Http(base)
    try:
        status, body = phone.call("POST", "/api/devices", {"username": username, "password": "pw"}, timeout=300)
    except Exception as error:  # noqa: BLE001  (counted and reported)
        stats.errors.append(f"{username} register {type(error).__name__}: {error}")
        return None
    if status != 201:
        stats.errors.append(f"{username} register {status} {str(body)[:200]}")
        return None
    phone.token = body["token"]
    return phone


def phone_loop(phone: Http, username: str, houses: list[str], deadline: float, stats: Stats, no: int) -> None:
    rng = random.Random(no)
    try:
        cursor: str | None = None
        seq = 1
        while time.monotonic() < deadline:
            mutations = batch(rng, houses, seq, no)
            seq += len(mutations)
            t = time.monotonic()
            status, body = phone.call("POST", "/api/sync/push", {"protocol": 1, "mutations": mutations}, timeout=60)
            stats.add("push", time.monotonic() - t)
            with stats.lock:
                stats.sent.extend(mutations)
            if status != 200:
                stats.errors.append(f"{username} push {status} {str(body)[:200]}")
                continue
            bad = [o for o in body["outcomes"] if o["status"] not in ("applied", "merged")]
            if bad:
                stats.errors.append(f"{username} outcomes {bad[:2]}")
            for _ in range(10):  # bounded: a round of pages
                t = time.monotonic()
                path = "/api/sync/pull?protocol=1" + (f"&cursor={cursor}" if cursor else "")
                status, page = phone.call("GET", path, timeout=60)
                stats.add("pull", time.monotonic() - t)
                if status != 200:
                    stats.errors.append(f"{username} pull {status} {str(page)[:200]}")
                    break
                cursor = page["cursor"]
                if not page["more"]:
                    break
    except Exception as error:  # noqa: BLE001  (counted and reported)
        stats.errors.append(f"{username} {type(error).__name__}: {error}")


class Sampler(threading.Thread):
    """What PostgreSQL's client backends are doing, sampled every half second until stopped."""

    QUERY = text("""
        SELECT a.state, coalesce(a.wait_event_type || ':' || a.wait_event, 'cpu') AS wait,
               left(regexp_replace(a.query, '\\s+', ' ', 'g'), 60) AS query,
               (SELECT left(regexp_replace(b.query, '\\s+', ' ', 'g'), 60) FROM pg_stat_activity b
                 WHERE b.pid = (pg_blocking_pids(a.pid))[1]) AS blocker
          FROM pg_stat_activity a
         WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()""")

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url)
        self.stop = threading.Event()
        self.samples = 0
        self.states: collections.Counter[str] = collections.Counter()
        self.waits: collections.Counter[str] = collections.Counter()
        self.blockers: collections.Counter[str] = collections.Counter()

    def run(self) -> None:
        with self.engine.connect() as conn:
            while not self.stop.wait(0.5):
                self.samples += 1
                for state, wait, query, blocker in conn.execute(self.QUERY):
                    self.states[state or "?"] += 1
                    if state == "active":
                        self.waits[f"{wait} | {query}"] += 1
                    if blocker:
                        self.blockers[f"{query} <- {blocker}"] += 1
                conn.rollback()
        self.engine.dispose()

    def report(self) -> dict[str, Any]:
        # Backends per sample: how many, on average, were in each state / waiting on each thing.
        def per_sample(counter: collections.Counter[str]) -> dict[str, float]:
            return {k: round(v / max(self.samples, 1), 2) for k, v in counter.most_common(12)}
        return {"samples": self.samples, "backends_by_state": per_sample(self.states),
                "active_backends_by_wait": per_sample(self.waits),
                "lock_waits_by_blocker": per_sample(self.blockers)}


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = collections.defaultdict(list)
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            out[ppid].append(int(name))
    return out


def _postmaster(data_dir: str) -> int:
    """The PostgreSQL server started on this data directory (its backends rename themselves)."""
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                args = cmdline.read().split(b"\0")
        except OSError:
            continue
        if args[0].endswith(b"postgres") and data_dir.encode() in args:
            return int(name)
    return 0


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its live descendants."""
    children, total, todo = _children(), 0.0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return total


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def verify(url: str, sent: list[dict[str, Any]]) -> dict[str, Any]:
    from webapp.models import Conflict, Person, Residency, SyncMutation, Visit

    engine = create_engine(url)
    with Session(engine) as s:
        found = {
            "sync_mutation": s.scalar(select(func.count()).select_from(SyncMutation)),
            "distinct_ids": s.scalar(select(func.count(func.distinct(SyncMutation.id)))),
            "visits": s.scalar(select(func.count()).select_from(Visit)),
            "new_persons": s.scalar(select(func.count()).select_from(Person).where(Person.name.like("新住户%"))),
            "conflicts": s.scalar(select(func.count()).select_from(Conflict)),
            "residencies": s.scalar(select(func.count()).select_from(Residency)),
        }
    engine.dispose()
    expected = {"sync_mutation": len(sent), "distinct_ids": len({m["id"] for m in sent}),
                "visits": sum(m["type"] == "visit" for m in sent),
                "new_persons": sum(m["type"] == "person" for m in sent), "conflicts": 0}
    return {"found": found, "expected": expected,
            "ok": all(found[k] == v for k, v in expected.items())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--no-analyze", action="store_true",
                        help="leave the seeded tables without planner statistics (as the first measurements did)")
    parser.add_argument("--profile", action="store_true", help="sample PostgreSQL wait events and CPU use")
    args = parser.parse_args(argv)
    cluster = PgCluster()
    cluster.start()
    server = None
    try:
        print(f"seeding {args.devices} coordinators …", flush=True)
        users = seed(cluster.url, args.devices, analyze=not args.no_analyze)
        server = Gunicorn(app_env(cluster.url), workers=args.workers)
        server.start(seconds=120)
        stats = Stats()
        print(f"registering {len(users)} phones …", flush=True)
        phones: dict[str, Http | None] = {}
        registering = [threading.Thread(target=lambda u=u: phones.__setitem__(u, register(server.base, u, stats)))
                       for u in users]
        for t in registering:
            t.start()
        for t in registering:
            t.join(timeout=330)
        sampler = Sampler(cluster.url) if args.profile else None
        pids = {"gunicorn": server.proc.pid if server.proc else 0, "postgresql": _postmaster(cluster.data),
                "load client": os.getpid()}
        cpu_before = {k: tree_cpu(p) for k, p in pids.items()}
        if sampler:
            sampler.start()
        deadline = time.monotonic() + args.seconds
        threads = [threading.Thread(target=phone_loop, args=(phone, u, h, deadline, stats, i), daemon=True)
                   for i, (u, h) in enumerate(users.items()) if (phone := phones.get(u)) is not None]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1.0, deadline - time.monotonic() + 120))
        elapsed = time.monotonic() - started
        cpu = {k: round(tree_cpu(p) - cpu_before[k], 1) for k, p in pids.items()}
        if sampler:
            sampler.stop.set()
            sampler.join(timeout=10)
        stuck = sum(t.is_alive() for t in threads)
        check = verify(cluster.url, stats.sent)
        report = {
            "devices": args.devices, "workers": args.workers, "seconds": round(elapsed, 1),
            "pushes": len(stats.latency["push"]), "pulls": len(stats.latency["pull"]),
            "mutations": len(stats.sent),
            "requests_per_s": round((len(stats.latency["push"]) + len(stats.latency["pull"])) / elapsed, 1),
            "mutations_per_s": round(len(stats.sent) / elapsed, 1),
            "push_ms": {"p50": round(pct(stats.latency["push"], 50)), "p99": round(pct(stats.latency["push"], 99)),
                        "mean": round(statistics.fmean(stats.latency["push"] or [0]) * 1000)},
            "pull_ms": {"p50": round(pct(stats.latency["pull"], 50)), "p99": round(pct(stats.latency["pull"], 99)),
                        "mean": round(statistics.fmean(stats.latency["pull"] or [0]) * 1000)},
            "errors": len(stats.errors), "stuck_clients": stuck, "database": check,
            "cpu_seconds": cpu, "load_average": os.getloadavg()[0],
        }
        if sampler:
            report["postgresql"] = sampler.report()
        print(json.dumps(report, ensure_ascii=False, indent=2))
        for line in stats.errors[:10]:
            print("error:", line, file=sys.stderr)
        if args.json:
            with open(args.json, "w") as out:
                json.dump(report, out, ensure_ascii=False, indent=2)
        return 0 if not stats.errors and not stuck and check["ok"] else 1
    finally:
        if server is not None:
            server.stop()
        cluster.remove()


if __name__ == "__main__":
    sys.exit(main())
