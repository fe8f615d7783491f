"""Applying a push: set-based, idempotent, and every mutation ends with an outcome.

One query per table loads every touched row (locked on PostgreSQL), the mutations are
merged in memory in the device's order, and the writes go out as executemany batches. The
whole batch, its outcome rows and the device's last sequence commit together. Only if a
batch write fails (a race with another worker that a constraint caught) is it redone one
mutation per savepoint, so one bad mutation never undoes the others.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync import conflicts
from sync.batch import DELETABLE, Batch, Mutation, Outcome
from sync.merge import three_way
from sync.validate import parse_fields
from sync.wire import RECORD_TYPES, to_wire
from webapp.models import (
    Cell, Device, House, Person, RecordAlias, Residency, ScopeChange, SyncMutation, Tip,
)
from webapp.registry.scope import Scope, scope_for
from webapp.timeutil import utcnow

# Tables written before updates (parents), and after (children that may need an old
# residency ended first: one open residency per person).
PARENTS = ("house", "house_code", "house_flag", "unit", "person")
CHILDREN = ("residency", "visit")


@dataclass
class _Write:
    """What one mutation writes, so that the slow path can redo it alone."""

    inserts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    updates: list[tuple[str, uuid.UUID, int, dict[str, Any]]] = field(default_factory=list)
    extras: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)  # (table, row)


@dataclass
class PushResult:
    outcomes: list[Outcome]
    last_seq: int


class _State:
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


def apply_batch(session: Session, device: Device, batch: Batch) -> PushResult:
    now = utcnow()
    user = device.user
    scope = scope_for(session, user)
    known = {m.id: m for m in session.scalars(
        select(SyncMutation).where(SyncMutation.id.in_([m.id for m in batch.mutations])))}
    outcomes: list[Outcome] = []
    fresh: list[Mutation] = []
    seen: set[uuid.UUID] = set()
    for m in sorted(batch.mutations, key=lambda m: m.seq):
        if m.id in known or m.id in seen:
            outcomes.append(_already(m, known.get(m.id)))
        else:
            seen.add(m.id)
            fresh.append(m)
    state = _load(session, fresh)
    cells = _cells(session)
    writes: list[tuple[Mutation, Outcome, _Write]] = []
    for m in fresh:
        work = _Write()
        outcome = _process(session, m, state, scope, cells, device, now, work)
        writes.append((m, outcome, work))
    _write(session, writes, device, now)
    outcomes += [o for _, o, _ in writes]
    offset = None if batch.clock is None else int((now - batch.clock).total_seconds() * 1000)
    if writes:
        session.execute(insert(SyncMutation), [_receipt(m, o, device, now, offset) for m, o, _ in writes])
    top = max([device.last_seq, *(m.seq for m in batch.mutations)])
    device.last_seq = top
    device.last_push_at = device.last_seen_at = now
    device.app_version = batch.app_version or device.app_version
    device.protocol = batch.protocol
    if batch.pending is not None:
        device.pending = batch.pending
    outcomes.sort(key=lambda o: o.seq)
    return PushResult(outcomes, top)


def _already(m: Mutation, stored: SyncMutation | None) -> Outcome:
    """A mutation seen before: answer with what happened to it the first time, so a phone
    whose response was lost still learns of a rejection, a conflict or a merge."""
    outcome = Outcome(m.id, m.seq, "already_applied", m.type, m.record_id)
    if stored is not None:
        detail = stored.detail or {}
        outcome.first_status = stored.outcome
        outcome.errors = list(detail.get("errors", []))
        outcome.conflict_id = stored.conflict_id
        outcome.blocked_by = uuid.UUID(detail["blocked_by"]) if detail.get("blocked_by") else None
        outcome.canonical_id = uuid.UUID(detail["canonical_id"]) if detail.get("canonical_id") else None
    return outcome


def _receipt(m: Mutation, o: Outcome, device: Device, now: datetime, offset: int | None) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if o.errors:
        detail["errors"] = o.errors
    if o.blocked_by:
        detail["blocked_by"] = str(o.blocked_by)
    if o.canonical_id:
        detail["canonical_id"] = str(o.canonical_id)
    return {"id": m.id, "device_id": device.id, "device_seq": m.seq, "record_type": m.type,
            "record_id": m.record_id, "op": m.op, "outcome": o.status, "detail": detail,
            "conflict_id": o.conflict_id, "received_at": now, "device_time": m.at,
            "clock_offset_ms": offset}


# ---------------------------------------------------------------- loading, set-based

def _load(session: Session, mutations: list[Mutation]) -> _State:
    state = _State()
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
        _fetch(session, state, kind, wanted[kind])
        wanted["house"] |= {r["house_id"] for r in state.rows[kind].values() if r.get("house_id")}
    persons = wanted["person"] | {r["person_id"] for r in state.rows["residency"].values()}
    _fetch(session, state, "person", persons)
    # Open residencies of every person touched: moving house ends the old one.
    wanted["house"] |= _open_residencies(session, state, persons | _ids(mutations, "residency", "person_id"))
    _fetch(session, state, "house", wanted["house"])
    return state


def _open_residencies(session: Session, state: _State, persons: set[uuid.UUID]) -> set[uuid.UUID]:
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


def _fetch(session: Session, state: _State, kind: str, ids: set[uuid.UUID]) -> None:
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


def _cells(session: Session) -> dict[uuid.UUID, uuid.UUID]:
    return dict(session.execute(select(Cell.id, Cell.committee_id)).all())  # type: ignore[arg-type]


# ---------------------------------------------------------------- one mutation, in memory

def _process(session: Session, m: Mutation, state: _State, scope: Scope, cells: dict[uuid.UUID, uuid.UUID],
             device: Device, now: datetime, work: _Write) -> Outcome:
    rtype = RECORD_TYPES[m.type]
    rid = state.alias.get(m.record_id, m.record_id)
    creating = m.op == "create"
    values, errors = parse_fields(rtype, m.fields, creating=creating)
    blocker = _blocked_by(m, values, state)
    if blocker is not None:
        state.failed[m.record_id] = m.id
        return Outcome(m.id, m.seq, "blocked", m.type, m.record_id, blocked_by=blocker)
    errors_wire = [e.as_dict() for e in errors]
    problem = _op_problem(m, rtype, rid, state)
    if problem:
        errors_wire.append(problem)
    if errors_wire:
        state.failed[m.record_id] = m.id
        return Outcome(m.id, m.seq, "rejected", m.type, m.record_id, errors=errors_wire)
    _redirect_refs(values, rtype, state)
    missing = _missing_refs(values, rtype, state)
    if missing:
        state.failed[m.record_id] = m.id
        return Outcome(m.id, m.seq, "rejected", m.type, m.record_id, errors=missing)
    house = _house_of(m.type, rid, values, state)
    cell_id = house.get("cell_id") if house else values.get("cell_id")
    ctx = conflicts.Context(device=device, mutation=m, house_id=house["id"] if house else None,
                            cell_id=cell_id, committee_id=cells.get(cell_id) if cell_id else None)
    if not _in_scope(m, scope, cell_id, rid, state):
        return _conflict(m, work, ctx, "out_of_scope", {}, state.get(m.type, rid) or {}, now)
    if creating:
        return _create(session, m, rid, values, state, ctx, now, work, device)
    return _change(m, rid, values, state, ctx, now, work, device)


def _blocked_by(m: Mutation, values: dict[str, Any], state: _State) -> uuid.UUID | None:
    if m.record_id in state.failed and m.op != "create":
        return state.failed[m.record_id]
    for name, _kind in RECORD_TYPES[m.type].refs:
        ref = values.get(name)
        if ref in state.failed:
            return state.failed[ref]
    return None


def _op_problem(m: Mutation, rtype: Any, rid: uuid.UUID, state: _State) -> dict[str, Any] | None:
    exists = state.get(m.type, rid) is not None
    if m.op == "create" and not rtype.creatable:
        return _problem("op.not_allowed", "此类记录不能在手机上新建", "this record type cannot be created from the app")
    if m.op == "update" and not rtype.editable:
        return _problem("op.not_allowed", "此类记录建立后不能修改", "this record type cannot be edited once made")
    if m.op == "delete" and m.type not in DELETABLE:
        return _problem("op.not_allowed", "此类记录不能删除", "this record type cannot be deleted")
    if m.op != "create" and not exists:
        return _problem("record.unknown", "要修改的记录不存在", "the record to change does not exist")
    if m.op != "create" and m.base_version is None:
        return _problem("base_version.required", "缺少基准版本号", "base_version is required for a change")
    return None


def _problem(code: str, zh: str, en: str, field_name: str = "record_id") -> dict[str, Any]:
    return {"field": field_name, "code": code, "zh": zh, "en": en}


def _redirect_refs(values: dict[str, Any], rtype: Any, state: _State) -> None:
    for name, _kind in rtype.refs:
        if values.get(name) in state.alias:
            values[name] = state.alias[values[name]]


def _missing_refs(values: dict[str, Any], rtype: Any, state: _State) -> list[dict[str, Any]]:
    out = []
    for name, kind in rtype.refs:
        ref = values.get(name)
        if ref is not None and kind in ("house", "person", "unit") and state.get(kind, ref) is None:
            out.append(_problem("ref.unknown", f"{name} 指向不存在的记录", f"{name} points to a record that does not exist", name))
    return out


def _house_of(kind: str, rid: uuid.UUID, values: dict[str, Any], state: _State) -> dict[str, Any] | None:
    if kind == "house":
        return state.get("house", rid)
    if kind == "person":
        for r in state.rows["residency"].values():
            if r["person_id"] == rid and r.get("end_date") is None and r.get("deleted_at") is None:
                return state.get("house", r["house_id"])
        return None
    row = state.get(kind, rid) or {}
    return state.get("house", values.get("house_id") or row.get("house_id"))


def _in_scope(m: Mutation, scope: Scope, cell_id: uuid.UUID | None, rid: uuid.UUID, state: _State) -> bool:
    if scope.cell_ids is None:
        return True
    if m.type == "person" and cell_id is None:
        # A person is reached through a residency: new persons come with one in the batch.
        return m.op == "create" or rid in state.new["person"]
    return scope.covers_cell(cell_id)


def _conflict(m: Mutation, work: _Write, ctx: conflicts.Context, kind: str, base: dict[str, Any],
              registry: dict[str, Any], now: datetime, detail: dict[str, Any] | None = None,
              status: str = "conflict", canonical: uuid.UUID | None = None) -> Outcome:
    row = conflicts.row(ctx, kind, base=base, registry=registry, device=m.fields, detail=detail or {}, now=now)
    work.extras.append((conflicts.TABLE, row))
    return Outcome(m.id, m.seq, status, m.type, m.record_id, conflict_id=row["id"], canonical_id=canonical)


def _stamp_person(values: dict[str, Any]) -> None:
    # The reversed copies behind "last digits" search follow the numbers.
    if "id_number" in values:
        values["id_rev"] = values["id_number"][::-1] if values["id_number"] else None
    if "phone" in values:
        values["phone_rev"] = values["phone"][::-1] if values["phone"] else None


def _create(session: Session, m: Mutation, rid: uuid.UUID, values: dict[str, Any], state: _State,
            ctx: conflicts.Context, now: datetime, work: _Write, device: Device) -> Outcome:
    if state.get(m.type, rid) is not None:
        # The record exists: an earlier push made it (a retry under a new mutation id).
        return Outcome(m.id, m.seq, "merged", m.type, m.record_id, canonical_id=rid)
    if m.type == "person":
        twin = _live_person(session, state, values.get("id_number"))
        if twin is not None:
            return _merge_twin(session, m, rid, twin, values, state, ctx, now, work, device)
    if m.type == "house":
        twin_house = _same_address(session, values)
        if twin_house is not None:
            _fetch(session, state, "house", {twin_house})
            state.alias[rid] = twin_house
            work.extras.append((RecordAlias.__table__, {"alias_id": rid, "canonical_id": twin_house,
                                                        "record_type": "house", "created_at": now,
                                                        "mutation_id": m.id}))
            return _conflict(m, work, ctx, "duplicate_house", {}, {"id": str(twin_house)}, now,
                             detail={"merged_into": str(twin_house)}, status="merged", canonical=twin_house)
    if m.type == "residency":
        moved = _move_house(m, values, state, ctx, now, work, device)
        if moved is not None:
            return moved
    row = {**values, "id": rid, "version": 1, "changed_at": now, "changed_by_id": device.user_id}
    if m.type == "person":
        _stamp_person(row)
    if m.type == "visit":
        row.setdefault("plate_scanned", False)
    state.rows[m.type][rid] = row
    state.new[m.type].add(rid)
    work.inserts.append((m.type, row))
    return Outcome(m.id, m.seq, "applied", m.type, m.record_id, version=1)


ADDRESS = ("road", "number", "building", "unit", "room")


def _same_address(session: Session, values: dict[str, Any]) -> uuid.UUID | None:
    """A live house at exactly this address (two coordinators found the same new flat)."""
    clauses = [House.deleted_at.is_(None)]
    for part in ADDRESS:
        column = getattr(House, part)
        clauses.append(column.is_(None) if values.get(part) is None else column == values[part])
    return session.scalar(select(House.id).where(*clauses).limit(1))


def _live_person(session: Session, state: _State, number: str | None) -> dict[str, Any] | None:
    if not number:
        return None
    for row in state.rows["person"].values():
        if row.get("id_number") == number and row.get("deleted_at") is None:
            return row
    found = session.execute(select(Person.__table__).where(
        Person.id_number == number, Person.deleted_at.is_(None))).mappings().first()
    if found is not None:
        state.rows["person"][found["id"]] = dict(found)
        return dict(found)
    return None


def _merge_twin(session: Session, m: Mutation, rid: uuid.UUID, twin: dict[str, Any], values: dict[str, Any], state: _State,
                ctx: conflicts.Context, now: datetime, work: _Write, device: Device) -> Outcome:
    """The same person created twice offline: one record, the second id an alias of it."""
    canonical = twin["id"]
    state.alias[rid] = canonical
    # The merged person's own open residency decides whether a residency sent with it is a move.
    _fetch(session, state, "house", _open_residencies(session, state, {canonical}))
    work.extras.append((RecordAlias.__table__, {"alias_id": rid, "canonical_id": canonical,
                                                "record_type": "person", "created_at": now,
                                                "mutation_id": m.id}))
    # What the registry lacks is filled in; what differs goes to the centre.
    fill = {k: v for k, v in values.items() if twin.get(k) in (None, "") and v not in (None, "")}
    differ = {k: v for k, v in values.items()
              if twin.get(k) not in (None, "") and to_wire(twin.get(k)) != to_wire(v)}
    if fill:
        _update_row(m.type, twin, fill, now, work, device, state)
    if differ:
        out = _conflict(m, work, ctx, "duplicate_person", {}, {k: to_wire(twin.get(k)) for k in differ}, now,
                        detail={"merged_into": str(canonical)}, status="merged", canonical=canonical)
        return out
    return Outcome(m.id, m.seq, "merged", m.type, m.record_id, canonical_id=canonical)


def _move_house(m: Mutation, values: dict[str, Any], state: _State, ctx: conflicts.Context,
                now: datetime, work: _Write, device: Device) -> Outcome | None:
    """A new open residency for someone living elsewhere: moving is normal, not a conflict."""
    if values.get("end_date") is not None:
        return None
    person_id = values["person_id"]
    current = [r for r in state.rows["residency"].values()
               if r["person_id"] == person_id and r.get("end_date") is None and r.get("deleted_at") is None]
    for old in current:
        if old["house_id"] == values["house_id"]:
            # Already living there: the same fact recorded twice.
            state.alias[m.record_id] = old["id"]
            return Outcome(m.id, m.seq, "merged", m.type, m.record_id, canonical_id=old["id"])
        if values["start_date"] <= old["start_date"]:
            # Two open residencies that overlap in time: a person cannot live in both.
            return _conflict(m, work, ctx, "overlapping_residency", {},
                             {k: to_wire(v) for k, v in old.items() if k in ("id", "house_id", "start_date")},
                             now, detail={"other_residency": str(old["id"])})
        end = max(old["start_date"], values["start_date"] - timedelta(days=1))
        _update_row("residency", old, {"end_date": end, "end_reason": "moved"}, now, work, device, state)
        old_house = state.get("house", old["house_id"]) or {}
        if old_house.get("cell_id") is not None:
            # The old cell's coordinator confirms the move-out at the door.
            work.extras.append((Tip.__table__, _move_out_tip(old_house, person_id, now)))
            work.extras.append((ScopeChange.__table__, _scope_row(old_house["cell_id"], "person", person_id, "leave")))
    return None


def _move_out_tip(house: dict[str, Any], person_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "version": 1, "changed_at": now, "house_id": house["id"],
            "cell_id": house["cell_id"], "kind": "moved_out", "status": "open", "source": "sync",
            "text": f"登记在新住址，请上门确认迁出 / registered at a new address: confirm the move-out ({person_id})",
            "created_at": now}


def _scope_row(cell_id: uuid.UUID, kind: str, rid: uuid.UUID, change: str) -> dict[str, Any]:
    return {"cell_id": cell_id, "record_type": kind, "record_id": rid, "kind": change}


def _change(m: Mutation, rid: uuid.UUID, values: dict[str, Any], state: _State, ctx: conflicts.Context,
            now: datetime, work: _Write, device: Device) -> Outcome:
    current = state.get(m.type, rid)
    assert current is not None
    if current.get("deleted_at") is not None:
        return _conflict(m, work, ctx, "edit_deleted", m.base, {"deleted_at": to_wire(current["deleted_at"])}, now)
    if m.op == "delete":
        values = {"deleted_at": now}
    same = m.base_version == current["version"]
    merged = three_way(current, _base_values(m), values, m.fields, same_version=same)
    if merged.take:
        _update_row(m.type, current, merged.take, now, work, device, state)
    if merged.conflicts:
        return _conflict(m, work, ctx, "field", {k: v["base"] for k, v in merged.conflicts.items()},
                         {k: v["registry"] for k, v in merged.conflicts.items()}, now,
                         detail={"fields": sorted(merged.conflicts), "taken": sorted(merged.take)})
    status = "applied" if same else "merged"
    return Outcome(m.id, m.seq, status, m.type, m.record_id, version=current["version"])


def _base_values(m: Mutation) -> dict[str, Any]:
    return dict(m.base)


def _update_row(kind: str, current: dict[str, Any], take: dict[str, Any], now: datetime, work: _Write,
                device: Device, state: _State) -> None:
    rid = current["id"]
    if kind == "person":
        _stamp_person(take)
    expected = current["version"]
    current.update(take)
    if rid in state.new[kind]:
        return  # still to be inserted: the insert row is this very dict
    current["version"] = expected + 1
    work.updates.append((kind, rid, expected, {**take, "changed_at": now, "changed_by_id": device.user_id}))


# ---------------------------------------------------------------- writing

def _write(session: Session, writes: list[tuple[Mutation, Outcome, _Write]], device: Device, now: datetime) -> None:
    groups = [w for _, _, w in writes]
    try:
        with session.begin_nested():
            _flush_groups(session, groups)
    except IntegrityError:
        # Slow path, only after a failure: each mutation alone, so one race loses alone.
        for m, outcome, work in writes:
            try:
                with session.begin_nested():
                    _flush_groups(session, [work])
            except IntegrityError as error:
                row = conflicts.row(
                    conflicts.Context(device=device, mutation=m, house_id=None, cell_id=None, committee_id=None),
                    "constraint", base=m.base, registry={}, device=m.fields,
                    detail={"error": str(error.orig)[:300]}, now=now)
                session.execute(insert(conflicts.TABLE), [row])
                outcome.status, outcome.conflict_id, outcome.version = "conflict", row["id"], None


def _flush_groups(session: Session, groups: list[_Write]) -> None:
    inserts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    updates: dict[tuple[str, frozenset[str]], list[dict[str, Any]]] = defaultdict(list)
    extras: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for work in groups:
        for kind, row in work.inserts:
            inserts[kind].append(row)
        for kind, rid, expected, values in work.updates:
            updates[(kind, frozenset(values))].append({**values, "_id": rid, "_expected": expected})
        for table, row in work.extras:
            extras[table].append(row)
    for kind in PARENTS:
        _insert(session, kind, inserts.pop(kind, []))
    for (kind, columns), rows in updates.items():
        table = RECORD_TYPES[kind].table
        stmt = (update(table)
                .where(table.c.id == bindparam("_id"), table.c.version == bindparam("_expected"))
                .values({**{c: bindparam(c) for c in columns}, "version": table.c.version + 1}))
        session.execute(stmt, rows)
    for kind in CHILDREN:
        _insert(session, kind, inserts.pop(kind, []))
    for table, rows in extras.items():
        session.execute(insert(table), rows)


def _insert(session: Session, kind: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = RECORD_TYPES[kind].table
    # executemany needs one shape: every row gets every column it could carry.
    columns = set().union(*rows)
    session.execute(insert(table), [{c: r.get(c) for c in columns} for r in rows])
