"""Figures 2 and 3: first pull of a coordinator's area against a raw select + json + gzip of
the same rows, and an incremental pull after 100 changes elsewhere at two district sizes."""
from __future__ import annotations

import gzip
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, select, update
from sqlalchemy.orm import Session

from bench.server import PullRound, pull_round
from bench.stats import Clock, Sample, alternate
from sync.pull import RECENT_VISITS, TABLES
from sync.wire import public_columns
from webapp.models import Cell, House, Person, Residency
from webapp.base.timeutil import utcnow

CHILDREN = frozenset({"house_code", "room", "house_flag", "house_event", "unit", "visit", "task", "residency"})


def _where(table: Table, cells: list[uuid.UUID]) -> list[ColumnElement[bool]]:
    """The snapshot's rows, written out by hand: live rows of the cells, open residencies,
    recent visits, open tasks, persons living there."""
    c = table.c
    houses = select(House.id).where(House.cell_id.in_(cells))
    clauses: list[ColumnElement[bool]] = [c.deleted_at.is_(None)]
    if table.name == "committee":
        clauses.append(c.id.in_(select(Cell.committee_id).where(Cell.id.in_(cells))))
    elif table.name == "cell":
        clauses.append(c.id.in_(cells))
    elif table.name == "house":
        clauses.append(c.cell_id.in_(cells))
    elif table.name in CHILDREN:
        clauses.append(c.house_id.in_(houses))
    elif table.name == "person":
        # Not a correlated EXISTS: SQLite runs that once per person of the district (seconds).
        clauses.append(c.id.in_(select(Residency.person_id).where(
            Residency.end_date.is_(None), Residency.deleted_at.is_(None), Residency.house_id.in_(houses))))
    if table.name == "residency":
        clauses.append(c.end_date.is_(None))
    if table.name == "visit":
        clauses.append(c.visited_at >= utcnow() - RECENT_VISITS)
    if table.name == "task":
        clauses.append(c.status == "open")
    return clauses


def raw_snapshot(engine: Engine, cells: list[uuid.UUID]) -> tuple[float, int, int]:
    """The limit: one plain select per table, json.dumps, gzip (seconds, gzip bytes, rows)."""
    with Clock() as clock, engine.connect() as conn:
        body: dict[str, list[dict[str, Any]]] = {}
        for table in TABLES:
            cols = [table.c[n] for n in public_columns(table)]
            body[table.name] = [dict(r) for r in conn.execute(select(*cols).where(*_where(table, cells))).mappings()]
        data = gzip.compress(json.dumps(body, default=str, ensure_ascii=False, separators=(",", ":")).encode(),
                             compresslevel=6)
    return clock.seconds, len(data), sum(map(len, body.values()))


@dataclass
class FirstPull:
    rows: int
    pages: int
    server_s: Sample
    raw_s: Sample
    server_bytes: int
    raw_bytes: int
    raw_rows: int


def first_pull(engine: Engine, base: str, token: str, cells: list[uuid.UUID], repeats: int = 5) -> FirstPull:
    last: dict[str, Any] = {}

    def server(_i: int) -> float:
        last["round"] = pull_round(base, token)  # no cursor: a first sync, every time
        return last["round"].seconds

    def raw(_i: int) -> float:
        seconds, size, rows = raw_snapshot(engine, cells)
        last["raw"] = (size, rows)
        return seconds

    samples = alternate({"server": server, "raw": raw}, repeats)
    r: PullRound = last["round"]
    return FirstPull(r.rows, r.pages, samples["server"], samples["raw"], r.wire_bytes, *last["raw"])


def change_elsewhere(engine: Engine, outside: list[uuid.UUID], n: int, tag: int) -> None:
    """n persons living in `outside` cells get a new phone, committed (and so numbered)."""
    with Session(engine) as s:
        ids = list(s.scalars(select(Residency.person_id).join(House, House.id == Residency.house_id).where(
            House.cell_id.in_(outside), Residency.end_date.is_(None)).order_by(Residency.person_id).limit(n)))
        s.execute(update(Person).where(Person.id.in_(ids)).values(
            phone=f"136{tag:04d}0000", version=Person.version + 1, changed_at=utcnow()))
        s.commit()


@dataclass
class Incremental:
    big: Sample
    small: Sample
    rows: int
    wire_bytes: int = 0  # the big district's last round: answers with headers
    requests: int = 0


def incremental(sides: dict[str, tuple[Engine, str, str, str, list[uuid.UUID]]], repeats: int = 5,
                changes: int = 100) -> Incremental:
    """sides: name → (engine, base url, token, cursor after a first pull, cells outside the area).
    Each repeat makes `changes` changes elsewhere, then times the device's next round."""
    cursors = {name: side[3] for name, side in sides.items()}
    rows = {"n": 0, "bytes": 0, "requests": 0}

    def measure(name: str) -> Any:
        engine, base, token, _cursor, outside = sides[name]

        def once(i: int) -> float:
            change_elsewhere(engine, outside, changes, i)
            r = pull_round(base, token, cursors[name])
            cursors[name] = r.cursor
            rows["n"] = r.rows
            if name == "big":
                rows["bytes"], rows["requests"] = r.wire_bytes, r.pages
            return r.seconds
        return once

    samples = alternate({name: measure(name) for name in sides}, repeats)
    return Incremental(samples["big"], samples["small"], rows["n"], rows["bytes"], rows["requests"])
