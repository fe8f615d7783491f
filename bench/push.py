"""Figure 1: push ingest through the real HTTP endpoint vs a raw executemany of the same rows.

Each repeat sends fresh mutations (new occupants, move-outs, visits, phone edits) from every
device, so no reset is needed between repeats. The limit then takes exactly the rows that
push wrote (new and changed records, scope-change rows, outcome/conflict/alias rows, the change
log's versions), deletes
the new ones (untimed) and writes them all again with one executemany per table and shape
on a plain Core connection (timed, commit included).
"""
from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from webapp.base.ids import new_id  # as the field app makes them (static/pwa/ids.js)
from bench.server import call, register
from bench.stats import Clock, Sample, alternate
from sync.bulk import driver_values
from webapp.registry.sequence import STAMPED_TABLES, committed_seq
from webapp.models import Base, Conflict, House, Person, RecordAlias, RecordVersion, Residency, SyncMutation, User
from webapp.models import cell_coordinator
from webapp.validation import check_char_gb11643

_ids = itertools.count(1)


def new_id_number() -> str:
    """A valid resident ID number (Beijing Dongcheng, so never one of the demo's Songjiang ones)."""
    n = next(_ids)
    born = date(1950, 1, 1) + timedelta(days=n // 450)
    first17 = f"110101{born:%Y%m%d}{(n % 450) * 2 + 1:03d}"
    return first17 + check_char_gb11643(first17)


@dataclass
class Phone:
    username: str
    token: str
    cells: list[uuid.UUID]
    seq: int = 0
    ids: list[uuid.UUID] = field(default_factory=list)


def phones(engine: Engine, base: str, n: int) -> list[Phone]:
    """The first n demo coordinators (xg01…), each with a registered device."""
    with Session(engine) as s:
        users = s.execute(select(User.id, User.username).where(User.role == "coordinator",
                                                               User.username.like("xg%"))
                          .order_by(User.username).limit(n)).all()
        cells = {uid: list(s.scalars(select(cell_coordinator.c.cell_id).where(cell_coordinator.c.user_id == uid)))
                 for uid, _ in users}
    # Register once the session is closed: on SQLite it holds the write lock the server needs.
    return [Phone(name, register(base, name), cells[uid]) for uid, name in users]


def mutations(engine: Engine, phone: Phone, count: int) -> list[dict[str, Any]]:
    """`count` mutations in five equal parts; the records are read fresh (untimed)."""
    part = max(1, count // 5)
    with Session(engine) as s:
        houses = list(s.scalars(select(House.id).where(House.cell_id.in_(phone.cells), House.deleted_at.is_(None))
                                .order_by(House.id)))
        living = s.execute(
            select(Residency.id, Residency.version, Person.id, Person.version, Person.phone)
            .join(Person, Person.id == Residency.person_id).join(House, House.id == Residency.house_id)
            .where(House.cell_id.in_(phone.cells), Residency.end_date.is_(None), Residency.deleted_at.is_(None),
                   Person.deleted_at.is_(None)).order_by(Residency.id)).all()
    out: list[dict[str, Any]] = []

    def add(kind: str, op: str, rid: uuid.UUID, fields: dict[str, Any], version: int | None = None,
            base: dict[str, Any] | None = None) -> None:
        phone.seq += 1
        out.append({"id": str(new_id()), "seq": phone.seq, "type": kind, "op": op, "record_id": str(rid),
                    "base_version": version, "fields": fields, "base": base or {}, "at": "2026-11-26T08:00:00Z"})

    for i in range(part):  # new occupants: a person and their residency
        pid = new_id()
        add("person", "create", pid, {"name": f"新住户{phone.seq}", "id_type": "resident",
                                      "id_number": new_id_number(), "phone": f"139{phone.seq % 10**8:08d}",
                                      "category": "migrant"})
        add("residency", "create", new_id(), {"person_id": str(pid), "house_id": str(houses[i % len(houses)]),
                                                  "relation": "tenant", "start_date": "2026-11-20"})
    half = len(living) // 2
    for rid, rver, *_ in living[half:half + part]:  # move-outs
        add("residency", "update", rid, {"end_date": "2026-11-25", "end_reason": "搬离"}, rver,
            {"end_date": None, "end_reason": None})
    for i in range(part):  # visits
        add("visit", "create", new_id(), {"house_id": str(houses[(i * 7) % len(houses)]),
                                              "visited_at": "2026-11-26T03:00:00Z", "outcome": "verified",
                                              "plate_scanned": False})
    for _rid, _rv, pid, pver, old in living[:part]:  # phone edits
        add("person", "update", pid, {"phone": f"137{(phone.seq * 7919) % 10**8:08d}"}, pver, {"phone": old})
    return out


def push_all(base: str, batches: list[tuple[Phone, list[dict[str, Any]]]]) -> float:
    with Clock() as clock:
        for phone, batch in batches:
            answer = call(f"{base}/api/sync/push", "POST", {"protocol": 1, "clock": "2026-11-26T08:00:05Z",
                                                            "pending": len(batch), "mutations": batch}, phone.token)
            assert answer.status == 200 and len(answer.body["outcomes"]) == len(batch)
    return clock.seconds


@dataclass
class Written:
    """What a push wrote: new rows and changed rows per table."""

    new: dict[Table, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    changed: dict[Table, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    @property
    def rows(self) -> int:
        return sum(map(len, self.new.values())) + sum(map(len, self.changed.values()))


def _chunks(ids: list[Any], n: int = 2000) -> list[list[Any]]:
    return [ids[i:i + n] for i in range(0, len(ids), n)]


def capture(engine: Engine, seq_before: int, mutation_ids: list[uuid.UUID], version_before: int = 0) -> Written:
    out = Written()
    with engine.connect() as conn:
        # The change log's versions of what the push wrote are rows it wrote too (issue 19).
        versions = RecordVersion.__table__  # type: ignore[attr-defined]
        out.new[versions] += [dict(r) for r in conn.execute(select(versions).where(versions.c.id > version_before))
                              .mappings()]
        for table in STAMPED_TABLES:
            for row in conn.execute(select(table).where(table.c.seq > seq_before)).mappings():
                is_new = "version" not in table.c or row["version"] == 1
                (out.new if is_new else out.changed)[table].append(dict(row))
        for model, col in ((SyncMutation, "id"), (Conflict, "mutation_id"), (RecordAlias, "mutation_id")):
            table = model.__table__  # type: ignore[attr-defined]
            for chunk in _chunks(mutation_ids):
                out.new[table] += [dict(r) for r in conn.execute(select(table).where(table.c[col].in_(chunk))).mappings()]
    return out


def raw_write(engine: Engine, written: Written) -> float:
    """Delete the new rows (untimed), then write everything again with executemany (timed)."""
    order = [t for t in Base.metadata.sorted_tables if t in written.new or t in written.changed]
    with engine.begin() as conn:
        for table in reversed(order):
            key = list(table.primary_key.columns)[0]  # record_alias is keyed by alias_id, not id
            for chunk in _chunks([r[key.name] for r in written.new.get(table, [])]):
                conn.execute(delete(table).where(key.in_(chunk)))
    with Clock() as clock, engine.begin() as conn:
        for table in order:
            if written.new.get(table):
                conn.execute(table.insert(), written.new[table])
            rows = written.changed.get(table)
            if rows:
                cols = [c for c in rows[0] if c != "id"]
                stmt = update(table).where(table.c.id == bindparam("_id")).values({c: bindparam(c) for c in cols})
                conn.execute(stmt, [{**r, "_id": r["id"]} for r in rows])
    return clock.seconds


def driver_write(engine: Engine, written: Written, changed: dict[Table, list[str]] | None = None) -> float:
    """SQLite alone: delete the new rows and convert every value as the push does (untimed),
    then write them again with sqlite3's own executemany in one transaction (timed, commit
    included). Changed rows set `changed[table]` (what the push changed in them), else every
    column. The part of a push's time no Python above the database can save."""
    order = [t for t in Base.metadata.sorted_tables if t in written.new or t in written.changed]
    with engine.begin() as conn:
        for table in reversed(order):
            key = list(table.primary_key.columns)[0]
            for chunk in _chunks([r[key.name] for r in written.new.get(table, [])]):
                conn.execute(delete(table).where(key.in_(chunk)))
    with engine.connect() as conn:
        statements: list[tuple[str, list[Any]]] = []
        for table in order:
            name = conn.dialect.identifier_preparer.format_table(table)
            quote = conn.dialect.identifier_preparer.quote
            rows = written.new.get(table)
            if rows:
                columns = [c for c in table.columns if c.name in rows[0]]
                statements.append((f"INSERT INTO {name} ({', '.join(quote(c.name) for c in columns)}) "
                                   f"VALUES ({', '.join('?' * len(columns))})", list(driver_values(conn, columns, rows))))
            rows = written.changed.get(table)
            if rows:
                names = (changed or {}).get(table) or [c for c in rows[0] if c != "id"]
                columns = [table.c[n] for n in names] + [table.c.id]
                statements.append((f"UPDATE {name} SET {', '.join(f'{quote(n)} = ?' for n in names)} WHERE id = ?",
                                   list(driver_values(conn, columns, rows))))
        driver = conn.connection.driver_connection
        assert driver is not None
        with Clock() as clock:
            driver.execute("BEGIN IMMEDIATE")
            for statement, values in statements:
                driver.executemany(statement, values)
            driver.execute("COMMIT")
    return clock.seconds


def changed_columns(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """The columns in which any row of `after` differs from the same row (by id) in `before`."""
    old = {r["id"]: r for r in before}
    return sorted({k for r in after if r["id"] in old for k, v in r.items() if old[r["id"]].get(k) != v})


@dataclass
class PushFigure:
    mutations: int
    devices: int
    push: Sample  # mutations/s
    raw: Sample  # mutations/s (same rows, raw executemany)
    rows_written: int
    statuses: dict[str, int]


def measure(engine: Engine, base: str, devices: int = 20, per_device: int = 500, repeats: int = 5) -> PushFigure:
    fleet = phones(engine, base, devices)
    total = devices * per_device
    last: dict[str, Any] = {"written": Written(), "ids": []}
    statuses: dict[str, int] = defaultdict(int)

    def do_push(_i: int) -> float:
        batches = [(p, mutations(engine, p, per_device)) for p in fleet]
        with Session(engine) as s:
            before = committed_seq(s)
            versions_before = s.scalar(select(func.max(RecordVersion.id))) or 0
        seconds = push_all(base, batches)
        ids = [uuid.UUID(m["id"]) for _, b in batches for m in b]
        last["written"] = capture(engine, before, ids, versions_before)
        with engine.connect() as conn:
            for chunk in _chunks(ids):
                for (status,) in conn.execute(select(SyncMutation.outcome).where(SyncMutation.id.in_(chunk))):
                    statuses[status] += 1
        return sum(len(b) for _, b in batches) / seconds

    def do_raw(_i: int) -> float:
        return total / raw_write(engine, last["written"])

    samples = alternate({"push": do_push, "raw": do_raw}, repeats)
    return PushFigure(total, len(fleet), samples["push"], samples["raw"], last["written"].rows, dict(statuses))

