"""Figure 10: a sync as the phone sees it on the wire — requests, TCP connections, bytes each way
with headers — for protocol 1 and 2, on the scenario of issue 17's comparison with the peer
(PouchDB replicating from a CouchDB-protocol server), measured here on Gridwalk's side only.

gunicorn serves the district (gunicorn.conf.py: its worker model); the client talks to it
through a counting TCP relay, one persistent connection as a browser keeps, so every byte of
every request and answer (headers included) and every new connection is counted.

    .venv/bin/python -m bench.wire [--scale 4] [--write] [--json out.json]

With --write it replaces its section of BENCHMARKS.md (between markers); `make bench` runs it.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import io
import json
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli
import zstandard
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.base.ids import new_id  # as the field app makes them (static/pwa/ids.js)
from bench.dataset import PASSWORD, build, cells_by_code, make_coordinator, pick_cells
from bench.pull import change_elsewhere
from bench.report import write_section
from bench.push import capture, changed_columns, driver_write, new_id_number
from sync.wire import RECORD_TYPES
from webapp.models import House, Person, RecordVersion, Residency
from webapp.registry.sequence import committed_seq

# Issue 17's table: the peer measured side by side on the same 16,935 records (its numbers).
PEER = {"first_pull": {"s": 3.86, "requests": 854, "kb_in": 2978}, "push": {"s": 2.07, "requests": 599,
        "kb_out": 2716, "kb_in": 318}, "pull_after": {"kb_in": 174}, "second_push": {"s": 0.85, "kb_in": 142}}
BATCH = 500  # the field app's push batch
ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- bench.wire -->", "<!-- /bench.wire -->"
# Each backend's section of BENCHMARKS.md: SQLite's is figure 10 itself, PostgreSQL's follows it.
MARKS = {"sqlite": (BEGIN, END), "postgresql": ("<!-- bench.wire postgresql -->", "<!-- /bench.wire postgresql -->")}
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
PEER_NOTE = [
    "**The peer was not run here.** CouchDB is not installable on this machine (no Debian package; "
    "only the package registries are reachable), so the peer column is issue 17's published "
    "measurement (PouchDB replicating with a CouchDB-protocol server, the same 16,935 records of a "
    "2,039-house area, side by side on this kind of 2-core machine). Our area here is the bench "
    "district's first 2,000 houses at scale 4: comparable in size, not the same rows. Ratios are "
    "protocol 2 / peer; the target is issue 17's.", "",
]
# (figure, key in the scenario, measure, unit, the target as a fraction of the peer's)
ROWS = [("first pull", "first_pull", "s", "time", 0.20), ("first pull", "first_pull", "requests", "requests", None),
        ("first pull", "first_pull", "kb_in", "KB in", 0.30),
        ("push of 2,000 new + 500 edits", "push", "s", "time", 0.25),
        ("push of 2,000 new + 500 edits", "push", "requests", "requests", None),
        ("push of 2,000 new + 500 edits", "push", "kb_out", "KB out", 0.15),
        ("push of 2,000 new + 500 edits", "push", "kb_in", "KB in", 0.30),
        ("pull after that push (100 changes elsewhere)", "pull_after", "kb_in", "KB in", 0.20),
        ("second push, same size", "second_push", "s", "time", 0.25),
        ("second push, same size", "second_push", "kb_in", "KB in", 0.30),
        ("the last push sent again (its answer lost)", "resend", "s", "time", None),
        ("the last push sent again (its answer lost)", "resend", "kb_in", "KB in", None)]


class Relay:
    """127.0.0.1:port → the server, counting bytes each way and connections."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.sent = self.received = self.connections = 0
        self.opened = 0  # connections since the start, never reset: a scenario's total
        self.ends: list[socket.socket] = []  # the relay's own sockets, both sides of each connection
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.sent = self.received = self.connections = 0

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self.ends += (client, server)
            for end in (client, server):
                # As the ends it stands between (http.client, gunicorn; a browser, nginx): without
                # it Nagle held a request's or an answer's last small segment until the other
                # side's delayed ACK, 40 ms each time, a stall the phone's own stack never has.
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
                self.opened += 1
            threading.Thread(target=self._pump, args=(client, server, "sent"), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, "received"), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, counter: str) -> None:
        try:
            while data := source.recv(65536):
                with self.lock:
                    setattr(self, counter, getattr(self, counter) + len(data))
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()
        for end in self.ends:
            end.close()


def _decode(raw: bytes, coding: str | None) -> bytes:
    if coding == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    if coding == "br":
        return brotli.decompress(raw)
    if coding == "gzip":
        return gzip.decompress(raw)
    return raw


@dataclass
class Phone:
    """A client as the field app behaves: one keep-alive connection, compressed pushes (2)."""

    port: int
    protocol: int
    token: str = ""
    seq: int = 0
    connection: http.client.HTTPConnection = field(init=False)

    def __post_init__(self) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Accept": "application/json",
                   "Accept-Encoding": "zstd, br, gzip" if self.protocol >= 2 else "gzip"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            if self.protocol >= 2 and len(data) > 1024:
                data = gzip.compress(data, 6)  # CompressionStream("gzip")
                headers["Content-Encoding"] = "gzip"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        assert response.status < 300, (response.status, raw[:300])
        return json.loads(_decode(raw, response.getheader("Content-Encoding")))

    def pull_round(self, cursor: str | None) -> tuple[str, int]:
        rows = 0
        while True:
            query = f"protocol={self.protocol}&limit={10000 if self.protocol >= 2 else 2000}" + (f"&cursor={cursor}" if cursor else "")
            page = self.call("GET", f"/api/sync/pull?{query}")
            rows += page["count"]
            cursor = page["cursor"]
            if not page["more"]:
                return str(cursor), rows

    def push(self, mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for i in range(0, len(mutations), BATCH):
            answer = self.call("POST", "/api/sync/push", {"protocol": self.protocol, "app_version": "bench",
                                                          "clock": "2026-11-26T08:00:05Z",
                                                          "mutations": mutations[i:i + BATCH]})
            out += answer["outcomes"]
        return out


def work(engine: Any, phone: Phone, cells: list[uuid.UUID], new: int = 2000, edits: int = 500) -> list[dict[str, Any]]:
    """`new` records (new occupants: a person and their residency each) and `edits` phone edits."""
    with Session(engine) as s:
        houses = list(s.scalars(select(House.id).where(House.cell_id.in_(cells), House.deleted_at.is_(None))
                                .order_by(House.id)))
        living = s.execute(select(Person.id, Person.version, Person.phone).join(Residency, Residency.person_id == Person.id)
                           .join(House, House.id == Residency.house_id)
                           .where(House.cell_id.in_(cells), Residency.end_date.is_(None), Person.deleted_at.is_(None))
                           .order_by(Person.id).limit(edits)).all()
    out: list[dict[str, Any]] = []

    def add(kind: str, op: str, rid: Any, fields: dict[str, Any], version: int | None = None,
            base: dict[str, Any] | None = None) -> None:
        phone.seq += 1
        out.append({"id": str(new_id()), "seq": phone.seq, "type": kind, "op": op, "record_id": str(rid),
                    "base_version": version, "fields": fields, "base": base or {}, "at": "2026-11-26T08:00:00Z"})

    for i in range(new // 2):
        pid = new_id()
        add("person", "create", pid, {"name": f"新住户{phone.seq}", "id_type": "resident", "id_number": new_id_number(),
                                      "phone": f"139{phone.seq % 10**8:08d}", "category": "migrant"})
        add("residency", "create", new_id(), {"person_id": str(pid), "house_id": str(houses[i % len(houses)]),
                                                  "relation": "tenant", "start_date": "2026-11-20"})
    for pid, version, old in living:
        add("person", "update", pid, {"phone": f"137{(phone.seq * 7919) % 10**8:08d}"}, version, {"phone": old})
    return out


def measure(relay: Relay, step: Any) -> dict[str, Any]:
    relay.reset()
    start = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - start
    time.sleep(0.05)  # the relay's last bytes
    return {"s": round(seconds, 3), "kb_out": round(relay.sent / 1024, 1), "kb_in": round(relay.received / 1024, 1),
            "connections": relay.connections, **(result or {})}


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs' median time (a shared machine), the rest from the last run; `times` all of them."""
    times = sorted(r["s"] for r in runs)
    return {**runs[-1], "s": times[len(times) // 2], "times": [r["s"] for r in runs]}


def marks_before(engine: Any, batch: list[dict[str, Any]]) -> dict[str, Any]:
    """Where the change sequence and the change log stand before a push, and the rows its
    edits will change (to tell which columns it changed in them)."""
    edited: dict[str, list[uuid.UUID]] = {}
    for m in batch:
        if m["op"] != "create":
            edited.setdefault(m["type"], []).append(uuid.UUID(m["record_id"]))
    with Session(engine) as s:
        rows = {}
        for kind, ids in edited.items():
            table = RECORD_TYPES[kind].table
            rows[table] = [dict(r) for r in s.execute(select(table).where(table.c.id.in_(ids))).mappings()]
        return {"seq": committed_seq(s), "version": s.scalar(select(func.max(RecordVersion.id))) or 0, "rows": rows}


def database_floor(engine: Any, batch: list[dict[str, Any]], marks: dict[str, Any], repeats: int = 3) -> dict[str, Any]:
    """What the push wrote (rows, receipts, the change log's versions), written again by SQLite
    alone (bench.push.driver_write): the median of `repeats`."""
    written = capture(engine, marks["seq"], [uuid.UUID(m["id"]) for m in batch], marks["version"])
    changed = {table: changed_columns(marks["rows"].get(table, []), rows) for table, rows in written.changed.items()}
    times = sorted(driver_write(engine, written, changed) for _ in range(repeats))
    return {"s": round(times[len(times) // 2], 3), "times": [round(t, 3) for t in times], "rows": written.rows,
            "tables": {t.name: len(r) for t, r in written.new.items() if r},
            "changed": {t.name: len(r) for t, r in written.changed.items() if r}}


def scenario(engine: Any, relay: Relay, protocol: int, username: str, cells: list[uuid.UUID],
             outside: list[uuid.UUID], repeats: int = 3, floor: bool = False) -> dict[str, Any]:
    """The first pull `repeats` times (each a snapshot), then a push, the pull after it, and
    `repeats` more pushes (each followed by its pull): the second push's figure is their median.
    `floor`: also the database's own share of the last push (`database_floor`)."""
    phone = Phone(relay.port, protocol)
    phone.token = phone.call("POST", "/api/devices", {"username": username, "password": PASSWORD,
                                                      "label": "bench", "app_version": "bench"})["token"]
    phone.connection.close()  # the login is not part of a sync
    state: dict[str, Any] = {}
    requests = {"n": 0, "all": 0}
    original = phone.call
    time.sleep(0.05)  # the login's connection counted before the sync's
    opened = relay.opened

    def counted(*args: Any, **kwargs: Any) -> Any:
        requests["n"] += 1
        requests["all"] += 1
        return original(*args, **kwargs)
    phone.call = counted  # type: ignore[method-assign]

    def first() -> dict[str, Any]:
        requests["n"] = 0
        state["cursor"], rows = phone.pull_round(None)
        return {"requests": requests["n"], "rows": rows}

    def push() -> dict[str, Any]:
        requests["n"] = 0
        outcomes = phone.push(state.pop("batch"))
        statuses: dict[str, int] = {}
        for o in outcomes:
            statuses[o["status"]] = statuses.get(o["status"], 0) + 1
        return {"requests": requests["n"], "statuses": statuses}

    def pull_after() -> dict[str, Any]:
        requests["n"] = 0
        state["cursor"], rows = phone.pull_round(state["cursor"])
        return {"requests": requests["n"], "rows": rows}

    out = {"first_pull": median_of([measure(relay, first) for _ in range(repeats)])}
    pushes, after = [], []
    for i in range(repeats + 1):
        batch = state["batch"] = work(engine, phone, cells)
        marks = marks_before(engine, batch)  # untimed
        pushes.append(measure(relay, push))
        if floor and i == repeats:
            out["floor"] = database_floor(engine, batch, marks)
        change_elsewhere(engine, outside, 100, protocol * 10 + i)
        after.append(measure(relay, pull_after))
    out["push"], out["pull_after"] = pushes[0], after[0]
    out["second_push"] = median_of(pushes[1:])
    # The last batch again, as a phone sends it when the answer was lost (a stairwell): every
    # mutation is answered from its receipt, as the first time, and nothing is applied twice.
    resends = []
    for _ in range(repeats):
        state["batch"] = batch
        resends.append(measure(relay, push))
    out["resend"] = median_of(resends)
    phone.connection.close()
    # Over the whole scenario: a step's own count is 0 once its connection is open (a median
    # run is not the first), which said nothing of how many a sync opens.
    out["wire"] = {"connections": relay.opened - opened, "requests": requests["all"]}
    return out


def _value(v: float, unit: str) -> str:
    if unit == "time":
        return f"{v:,.2f} s"
    return f"{v:,}" if isinstance(v, int) else f"{v:,.1f}" if v < 10 else f"{v:,.0f}"


def section(report: dict[str, Any], seconds: float, command: str) -> str:
    p1, p2 = report["protocol1"], report["protocol2"]
    backend = report.get("backend", "sqlite")
    begin, heading = MARKS[backend][0], "## Sync on the wire: protocol 2 against protocol 1 and the peer (figure 10)"
    if backend == "postgresql":
        heading = ("### Figure 10 on PostgreSQL: a cluster started for the run on the same two cores (tests/pg.py: "
                   "fsync and synchronous commit off, as in the tests)")
    out = [begin, heading, "",
           f"Written by `{command}` (bench/wire.py; `make bench` runs it) in {seconds:.0f} s: a coordinator's first "
           f"sync of a {report['houses']:,}-house area ({p2['first_pull']['rows']:,} records; time: median of "
           f"{len(p2['first_pull']['times'])} runs), a push of 1,000 new occupants (a person and a residency each: "
           "2,000 new records) and 500 phone edits in batches of 500, the next pull after 100 changes outside the "
           f"area, and more pushes like the first (the second push's time: median of "
           f"{len(p2['second_push']['times'])}). The machine is shared (load average "
           f"{'–'.join(str(x) for x in report.get('load_average', []))} from other work during this run): times vary "
           "run to run, bytes do not. "
           f"gunicorn with `gunicorn.conf.py` ({report['workers']} workers) on {NAMES[backend]}; the client as the field app: one keep-alive "
           "connection, pushes gzip-compressed (protocol 2), `Accept-Encoding: zstd, br, gzip`. Bytes are "
           "counted by a TCP relay between client and server: headers, bodies, both directions. "
           f"TCP connections opened over the whole scenario: protocol 1 {p1['wire']['connections']} for "
           f"{p1['wire']['requests']} requests, protocol 2 {p2['wire']['connections']} for "
           f"{p2['wire']['requests']} requests ({report['gunicorn_args']}).", ""]
    out += PEER_NOTE if backend == "sqlite" else ["The peer's column and the targets: as in figure 10 above.", ""]
    out += ["| test | measure | protocol 1 | protocol 2 | peer (issue 17) | ratio | target | |",
            "|---|---|---|---|---|---|---|---|"]
    missed = []
    for title, key, measure, unit, target in ROWS:
        if key not in p1 or key not in p2:
            continue  # a report from before the row was measured
        a, b = p1[key][measure], p2[key][measure]
        peer = report["peer"].get(key, {}).get(measure)
        ratio = "—" if not peer else f"{b / peer:.3f}×" if b / peer < 0.01 else f"{b / peer:.2f}×"
        met = "—" if target is None or peer is None else ("met" if b <= target * peer else "**missed**")
        if met == "**missed**":
            missed.append(f"{title} ({unit})")
        out.append(f"| {title} | {unit} | "
                   f"{_value(a, unit)} | {_value(b, unit)} | {_value(peer, unit) if peer else '—'} | {ratio} | "
                   f"{f'≤ {target:.2f}×' if target else '—'} | {met} |")
    # Said from this run's outcomes: a push's time sits near its target and varies run to run.
    verdict = f"Missed in this run: {'; '.join(missed)}." if missed else "Every target above is met in this run."
    out += ["", f"{verdict} A push's time is the server's ingest of 2,500 mutations (validation, merge, scope, "
            "the change log); the open-model load and its target (200 syncs/s) are measured apart, "
            "in RELIABILITY.md (`make load`)."]
    resend = p2.get("resend")
    if resend:
        answered = resend.get("statuses", {})
        again = answered.get("already_applied", 0)
        out += ["", f"The last push sent again, as a phone does when the answer was lost: {again:,} of "
                f"{sum(answered.values()):,} mutations answered `already_applied` from their receipts, with what "
                f"happened to them the first time, in {resend['s']:.2f} s (median of {len(resend['times'])}). "
                "Issue 17 does not say what the peer's second push carried: it took 0.85 s against its first "
                "push's 2.07 s and brought back 142 KB against 318 KB. This figure reads it as new work of the "
                "same size, the stricter reading; the push sent again is the other reading."]
    floor = p2.get("floor")
    if floor:
        target = 0.25 * report["peer"]["second_push"]["s"]
        tables = ", ".join(f"{n:,} {t}" for t, n in floor["tables"].items())
        changed = ", ".join(f"{n:,} {t}" for t, n in floor["changed"].items())
        out += ["", f"The database's own share: the {floor['rows']:,} rows the last push wrote ({tables} new; "
                f"{changed} changed, in the columns it changed) written again by SQLite alone, with its own "
                f"executemany in one transaction and every value converted beforehand (bench.push.driver_write), "
                f"take **{floor['s']:.2f} s** (median of {len(floor['times'])}): "
                f"{floor['s'] / target:.0%} of the second push's target of {target:.2f} s, before any "
                "reading, validating, merging or answering."]
    return "\n".join(out + [MARKS[backend][1]])




def main(argv: list[str] | None = None) -> int:
    from tests.faults import Gunicorn, app_env

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=4)
    parser.add_argument("--houses", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn.conf.py's (one a core) unless given")
    parser.add_argument("--gunicorn-args", default="", help="added to gunicorn.conf.py's, e.g. '--worker-class sync'")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite",
                        help="postgresql: a cluster started for the run (tests/pg.py), the deployments' database")
    parser.add_argument("--json", default=None)
    parser.add_argument("--write", action="store_true", help="replace this backend's section of BENCHMARKS.md (figure 10; PostgreSQL's follows it)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    report: dict[str, Any] = {"peer": PEER, "backend": args.backend,
                              "gunicorn_args": args.gunicorn_args or "gunicorn.conf.py",
                              "workers": args.workers or os.cpu_count(),
                              "load_average": [round(os.getloadavg()[0], 1)]}
    with tempfile.TemporaryDirectory(prefix="gw-wire-") as tmp, ExitStack() as stack:
        urls = _databases(args.backend, Path(tmp), stack)
        for protocol in (1, 2):
            # Each protocol on its own copy of the district: the same rows for both.
            url = urls[protocol]
            district = build(args.backend, url, args.scale, Path(tmp))
            cells = cells_by_code(district.engine)
            area, report["houses"] = pick_cells(cells, 0, args.houses)
            outside = [c for c, _ in cells[-max(3, len(cells) // 10):] if c not in area]
            make_coordinator(district.engine, "wire", area)
            env = {**app_env(url), "GUNICORN_CMD_ARGS": args.gunicorn_args}
            server = Gunicorn(env, workers=args.workers)
            server.start(seconds=120)
            relay = Relay(("127.0.0.1", server.port))
            try:
                # The floor writes through sqlite3's own executemany (bench/push.py).
                report[f"protocol{protocol}"] = scenario(district.engine, relay, protocol, "wire", area, outside,
                                                         args.repeats, floor=protocol >= 2 and args.backend == "sqlite")
            finally:
                relay.close()
                server.stop()
                district.engine.dispose()
    report["load_average"].append(round(os.getloadavg()[0], 1))
    print(json.dumps(report, indent=1, ensure_ascii=False))
    if args.write:
        command = "python -m bench.wire" + (" " + " ".join(argv) if argv else "")
        write_section(ROOT / "BENCHMARKS.md", section(report, time.perf_counter() - began, command),
                      *MARKS[args.backend])
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


def _databases(backend: str, tmp: Path, stack: ExitStack) -> dict[int, str]:
    """Protocol → the url of its own district."""
    if backend == "sqlite":
        return {p: f"sqlite:///{tmp / f'district{p}.sqlite3'}" for p in (1, 2)}
    from tests.pg import create_databases, pg_cluster

    urls = create_databases(stack.enter_context(pg_cluster()), ["district1", "district2"])
    return {p: urls[f"district{p}"] for p in (1, 2)}


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
