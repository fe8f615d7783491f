"""What a push batch works on: every touched row, loaded set-based, then changed in memory."""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from sync.batch import Mutation
from webapp import validation
from sync.wire import RECORD_TYPES
from webapp.models import Cell, Person, RecordAlias, Residency, SyncMutation


class State:
    """Rows as the batch sees them: loaded from the database, then changed in memory.

    Rows are added with `add` so that the two lookups every create makes (a person's open
    residencies, a live person with this ID number) are dictionary hits, not scans of every
    row of the batch: scans made a 500-mutation push quadratic. The indexes only point at
    candidates; readers check the row's current values, so a row changed in memory after it
    was indexed is never wrongly found (and `reindex` adds it under its new value).
    """

    INDEXED = {"residency": "person_id", "person": "id_number"}

    def __init__(self) -> None:
        self.rows: dict[str, dict[uuid.UUID, dict[str, Any]]] = defaultdict(dict)
        self.new: dict[str, set[uuid.UUID]] = defaultdict(set)
        self.alias: dict[uuid.UUID, uuid.UUID] = {}
        self.failed: dict[uuid.UUID, uuid.UUID] = {}  # record id → mutation that failed it
        self.index: dict[str, dict[Any, list[uuid.UUID]]] = {k: defaultdict(list) for k in self.INDEXED}
        self.numbers_loaded: set[str] = set()  # ID numbers whose live persons are all in rows
        self.review_required: dict[uuid.UUID, bool] = {}  # committee → its review setting
        # Person → the houses of their open residencies as loaded (before this batch changed them).
        self.homes: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)

    def get(self, kind: str, rid: uuid.UUID | None) -> dict[str, Any] | None:
        if rid is None:
            return None
        return self.rows[kind].get(self.alias.get(rid, rid))

    def add(self, kind: str, row: dict[str, Any], replace: bool = True) -> dict[str, Any]:
        """Keep this row (or, with replace=False, the one already kept); returns the kept row."""
        rows = self.rows[kind]
        if not replace and row["id"] in rows:
            return rows[row["id"]]
        rows[row["id"]] = row
        self.reindex(kind, row)
        return row

    def reindex(self, kind: str, row: dict[str, Any]) -> None:
        column = self.INDEXED.get(kind)
        if column is not None and row.get(column) is not None:
            ids = self.index[kind][row[column]]
            if row["id"] not in ids:
                ids.append(row["id"])

    def open_residencies(self, person_id: uuid.UUID) -> list[dict[str, Any]]:
        """The person's open residencies among the batch's rows, in the order they were added."""
        rows = self.rows["residency"]
        found = (rows[i] for i in self.index["residency"].get(person_id, ()))
        return [r for r in found if r["person_id"] == person_id and r.get("end_date") is None
                and r.get("deleted_at") is None]

    def live_persons_with(self, number: str) -> list[dict[str, Any]]:
        """The live persons with this ID number among the batch's rows: those this batch made
        first (the same person typed twice on one phone), then the registry's holder of the
        number, then records held for the centre that claim it (`claims_id_of`)."""
        rows = self.rows["person"]
        found = [rows[i] for i in self.index["person"].get(number, ())]
        found = [r for r in found if r.get("id_number") == number and r.get("deleted_at") is None]
        return sorted(found, key=lambda r: (r["id"] not in self.new["person"], r.get("claims_id_of") is not None))


def listed(column: Any, name: str, postgresql: bool) -> ColumnElement[bool]:
    """`column IN :name`, for a statement built once and run with a list bound to `name`.
    Building a statement anew costs about as much as running it again (~0.07 ms), and a
    small sync runs twenty: they are built once per process. On PostgreSQL as `= ANY(array)`:
    one parameter, not one per value (a push looks up thousands of ids, and binding each
    apart took ~3 ms per thousand)."""
    if postgresql:
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def is_postgresql(session: Session) -> bool:
    # Asked a dozen times a sync, and the app's session resolves its bind each time it is
    # asked: kept in the session's own info, which lives as long as the session does.
    known = session.info.get(_POSTGRESQL)
    if known is None:
        known = session.info[_POSTGRESQL] = session.get_bind().dialect.name == "postgresql"
    return bool(known)


_POSTGRESQL = "gridwalk_is_postgresql"


def load(session: Session, mutations: list[Mutation]) -> State:
    state = State()
    wanted: dict[str, set[uuid.UUID]] = defaultdict(set)
    for m in mutations:
        wanted[m.type].add(m.record_id)
        for name, kind in RECORD_TYPES[m.type].refs:
            value = m.fields.get(name)
            if value:
                try:
                    wanted[kind].add(uuid.UUID(str(value)))
                except ValueError:
                    pass
    every = {i for ids in wanted.values() for i in ids}
    if every:
        for alias in session.connection().execute(_aliases(is_postgresql(session)), {"ids": list(every)}):
            state.alias[alias.alias_id] = alias.canonical_id
            wanted[alias.record_type].add(alias.canonical_id)
    # Rows found second-hand: the houses of residencies and visits edited.
    for kind in ("residency", "visit", "house_flag", "unit", "house_code", "task", "review"):
        fetch(session, state, kind, wanted[kind])
        wanted["house"] |= {r["house_id"] for r in state.rows[kind].values() if r.get("house_id")}
    fetch(session, state, "room", wanted["room"])
    wanted["house"] |= {r["house_id"] for r in state.rows["room"].values() if r.get("house_id")}
    persons = wanted["person"] | {r["person_id"] for r in state.rows["residency"].values()}
    fetch(session, state, "person", persons)
    # Open residencies of every person touched: moving house ends the old one. Only of those
    # the registry holds: a residency names its person by foreign key, so a person new to it
    # (most of a push's) has none, and asking for a thousand of them was a fifth of loading.
    touched = persons | _ids(mutations, "residency", "person_id")
    wanted["house"] |= open_residencies(session, state, {p for p in touched if p in state.rows["person"]})
    fetch(session, state, "house", wanted["house"])
    # Every number the batch may look up (creates, and corrections of a number) in one go.
    live_persons(session, state, {n for m in mutations if m.type == "person" and (n := _number(m.fields))})
    return state


def own_failures(session: Session, state: State, device_id: uuid.UUID, mutations: list[Mutation]) -> None:
    """Records this device tried to create and was refused (in an earlier push) stay blocked
    for what names them: its own history, so saying so reveals nothing of the registry,
    and the dependant waits on the phone for the fix rather than going to the centre."""
    named: set[uuid.UUID] = set()
    for m in mutations:
        if m.op != "create":
            named.add(m.record_id)
        named |= {_uuid_or_none(m.fields.get(name)) for name, _kind in RECORD_TYPES[m.type].refs} - {None}  # type: ignore[arg-type]
    # A record created again in this batch (the fixed resend of the refused create) is not.
    named -= {m.record_id for m in mutations if m.op == "create"}
    named = {i for i in named if not any(state.get(kind, i) for kind in RECORD_TYPES)}
    if not named:
        return
    for record_id, mutation_id in session.execute(_failures(is_postgresql(session)),
                                                  {"device": device_id, "ids": list(named)}):
        state.failed.setdefault(record_id, mutation_id)


@cache
def _aliases(postgresql: bool) -> Any:
    # Rows, not objects: every push asks, and almost always finds none.
    table = cast(Table, RecordAlias.__table__)
    return select(table.c.alias_id, table.c.canonical_id, table.c.record_type).where(
        listed(table.c.alias_id, "ids", postgresql))


@cache
def _failures(postgresql: bool) -> Select[uuid.UUID, uuid.UUID]:
    return (select(SyncMutation.record_id, SyncMutation.id)
            .where(SyncMutation.device_id == bindparam("device"), listed(SyncMutation.record_id, "ids", postgresql),
                   SyncMutation.op == "create", SyncMutation.outcome.in_(("rejected", "blocked")))
            .order_by(SyncMutation.received_at))


def _number(fields: dict[str, Any]) -> str | None:
    """An ID number as validation will store it (a legacy 15-digit one becomes 18), or None."""
    raw, kind = fields.get("id_number"), fields.get("id_type") or "resident"
    if not isinstance(raw, str) or not raw.strip() or not isinstance(kind, str):
        return None
    try:
        return validation.parse_person_id(raw, kind).number
    except validation.ValidationError:
        return None


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def live_persons(session: Session, state: State, numbers: set[str]) -> None:
    """Every live person holding one of these ID numbers, in one query: each new person is
    checked against them (the same person recorded twice), without a query per person."""
    numbers -= state.numbers_loaded
    if not numbers:
        return
    postgresql = is_postgresql(session)
    if postgresql:
        # Two phones registering the same person at once: the second waits for the first to
        # commit and then finds it (merged, as on SQLite, where writers queue anyway), rather
        # than both inserting and one losing to the unique index. In one order: no deadlock.
        session.execute(text("SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtext(n) AS k "
                             "FROM unnest(CAST(:numbers AS text[])) AS n ORDER BY 1) AS keys"),
                        {"numbers": sorted(numbers)})
    # Registered and held apart: each half has its partial index (one query over both
    # conditions matched neither and read every person of the district, 130 ms a push).
    found = [row for held in (False, True)
             for row in _dicts(session, _live_persons(held, postgresql), {"numbers": list(numbers)})]
    for row in sorted(found, key=lambda r: r["id"]):
        state.add("person", row, replace=False)
    state.numbers_loaded |= numbers


@cache
def _live_persons(held: bool, postgresql: bool) -> Any:
    return select(Person.__table__).where(
        listed(Person.id_number, "numbers", postgresql), Person.deleted_at.is_(None),
        Person.claims_id_of.is_not(None) if held else Person.claims_id_of.is_(None))


def open_residencies(session: Session, state: State, persons: set[uuid.UUID]) -> set[uuid.UUID]:
    """Load the open residencies of these persons; return their houses."""
    houses: set[uuid.UUID] = set()
    if not persons:
        return houses
    for row in _dicts(session, _open_residencies(is_postgresql(session)), {"persons": list(persons)}):
        state.add("residency", row, replace=False)
        state.homes[row["person_id"]].add(row["house_id"])
        houses.add(row["house_id"])
    return houses


@cache
def _open_residencies(postgresql: bool) -> Any:
    return select(Residency.__table__).where(
        listed(Residency.person_id, "persons", postgresql), Residency.end_date.is_(None), Residency.deleted_at.is_(None))


def _dicts(session: Session, query: Select[Any], params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """The rows as plain dicts, the column names read once (dict(RowMapping) asks every row
    for its keys: a tenth of loading a push on PostgreSQL)."""
    result = session.execute(query, params)
    keys = list(result.keys())
    for values in result:
        yield dict(zip(keys, values))


def _ids(mutations: list[Mutation], kind: str, name: str) -> set[uuid.UUID]:
    out: set[uuid.UUID] = set()
    for m in mutations:
        if m.type == kind and m.fields.get(name):
            try:
                out.add(uuid.UUID(str(m.fields[name])))
            except ValueError:
                pass
    return out


def fetch(session: Session, state: State, kind: str, ids: set[uuid.UUID]) -> None:
    ids = {i for i in ids if i not in state.rows[kind]}
    if not ids:
        return
    for row in _dicts(session, _rows_of(kind, is_postgresql(session)), {"ids": list(ids)}):
        state.add(kind, row)


@cache
def _rows_of(kind: str, postgresql: bool) -> Any:
    table = RECORD_TYPES[kind].table if kind in RECORD_TYPES else _READ_ONLY[kind]
    query = select(table).where(listed(table.c.id, "ids", postgresql)).order_by(table.c.id)
    if postgresql:
        # Lock what we merge against: a concurrent push waits rather than writing in between.
        # Always in id order, table by table, so two pushes cannot deadlock on each other.
        query = query.with_for_update()
    return query


# Records a push may name but never writes (none since rooms are written at the door).
_READ_ONLY: dict[str, Any] = {}


class CellCommittees:
    """Cell → committee for the cells a batch touches: those of its houses in one query up
    front, any other on first use (all 2,600 cells of a district on every push cost more)."""

    def __init__(self, session: Session, cell_ids: set[uuid.UUID]) -> None:
        self.session, self.wanted = session, cell_ids
        # Read on first use: most pushes (door visits) never ask, and a query per push adds up.
        self.known: dict[uuid.UUID, uuid.UUID | None] | None = None

    def _query(self, cell_ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        if not cell_ids:
            return {}
        return dict(self.session.execute(_committees_of(is_postgresql(self.session)), {"cells": list(cell_ids)}).all())

    def get(self, cell_id: uuid.UUID) -> uuid.UUID | None:
        if self.known is None:
            self.known = {cid: None for cid in self.wanted}
            self.known.update(self._query(self.wanted))
        if cell_id not in self.known:
            self.known[cell_id] = self._query({cell_id}).get(cell_id)
        return self.known[cell_id]


@cache
def _committees_of(postgresql: bool) -> Select[uuid.UUID, uuid.UUID]:
    return select(Cell.id, Cell.committee_id).where(listed(Cell.id, "cells", postgresql))


def cell_committees(session: Session, state: State) -> CellCommittees:
    return CellCommittees(session, {h["cell_id"] for h in state.rows["house"].values() if h.get("cell_id")})
