"""What a push batch works on: every touched row, loaded set-based, then changed in memory."""
from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.batch import Mutation
from sync.wire import RECORD_TYPES
from webapp.models import Cell, House, RecordAlias, Residency


class State:
    """Rows as the batch sees them: loaded from the database, then changed in memory."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[uuid.UUID, dict[str, Any]]] = defaultdict(dict)
        self.new: dict[str, set[uuid.UUID]] = defaultdict(set)
        self.alias: dict[uuid.UUID, uuid.UUID] = {}
        self.failed: dict[uuid.UUID, uuid.UUID] = {}  # record id → mutation that failed it

    def get(self, kind: str, rid: uuid.UUID | None) -> dict[str, Any] | None:
        if rid is None:
            return None
        return self.rows[kind].get(self.alias.get(rid, rid))


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
        for alias in session.scalars(select(RecordAlias).where(RecordAlias.alias_id.in_(every))):
            state.alias[alias.alias_id] = alias.canonical_id
            wanted[alias.record_type].add(alias.canonical_id)
    # Rows found second-hand: the houses of residencies and visits edited.
    for kind in ("residency", "visit", "house_flag", "unit", "house_code", "tip"):
        fetch(session, state, kind, wanted[kind])
        wanted["house"] |= {r["house_id"] for r in state.rows[kind].values() if r.get("house_id")}
    persons = wanted["person"] | {r["person_id"] for r in state.rows["residency"].values()}
    fetch(session, state, "person", persons)
    # Open residencies of every person touched: moving house ends the old one.
    wanted["house"] |= open_residencies(session, state, persons | _ids(mutations, "residency", "person_id"))
    fetch(session, state, "house", wanted["house"])
    return state


def open_residencies(session: Session, state: State, persons: set[uuid.UUID]) -> set[uuid.UUID]:
    """Load the open residencies of these persons; return their houses."""
    houses: set[uuid.UUID] = set()
    if not persons:
        return houses
    rows = session.execute(select(Residency.__table__).where(
        Residency.person_id.in_(persons), Residency.end_date.is_(None), Residency.deleted_at.is_(None))).mappings()
    for row in rows:
        state.rows["residency"].setdefault(row["id"], dict(row))
        houses.add(row["house_id"])
    return houses


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
    table = RECORD_TYPES[kind].table if kind in RECORD_TYPES else House.__table__
    query = select(table).where(table.c.id.in_(ids)).order_by(table.c.id)
    if session.get_bind().dialect.name == "postgresql":
        # Lock what we merge against: a concurrent push waits rather than writing in between.
        # Always in id order, table by table, so two pushes cannot deadlock on each other.
        query = query.with_for_update()
    for row in session.execute(query).mappings():
        state.rows[kind][row["id"]] = dict(row)


def cell_committees(session: Session) -> dict[uuid.UUID, uuid.UUID]:
    return dict(session.execute(select(Cell.id, Cell.committee_id)).all())  # type: ignore[arg-type]
