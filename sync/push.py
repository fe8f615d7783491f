"""Applying a push: set-based, idempotent, and every mutation ends with an outcome.

One query per table loads every touched row (locked on PostgreSQL: sync/state.py), the
mutations are merged in memory in the device's order (sync/apply.py, sync/moves.py), and the
writes go out as executemany batches (sync/write.py). The whole batch, its outcome rows and
the device's last sequence commit together.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from sync import echo
from sync.apply import process
from sync.bulk import insert_rows
from sync.reach import Locate
from sync.batch import Batch, Mutation, Outcome
from sync.state import cell_committees, is_postgresql, listed, load, own_failures
from sync.write import Write, write
from webapp.models import Device, SyncMutation
from webapp.registry.scope import scope_for
from webapp.base.timeutil import utcnow


@dataclass
class PushResult:
    outcomes: list[Outcome]
    last_seq: int


def apply_batch(session: Session, device: Device, batch: Batch, *, locate: Locate,
                device_locked: bool = False, rescue: bool = False) -> PushResult:
    """`locate`: where a house's new point lies (geo.assign.CellFinder; sync/reach.py).
    `rescue`: a wiped phone's outbox imported by the centre (sync/rescue.py), whose work a
    role that now changes nothing hands to the centre rather than having it refused.
    `device_locked`: the caller read the device row FOR UPDATE already
    (`devices.authenticate(lock=True)`), saving a round trip on every push."""
    now = utcnow()
    if is_postgresql(session) and not device_locked:
        # One push per device at a time: the same batch sent twice at once (a retry racing the
        # original) then finds the first one's receipts (already_applied), not a duplicate key.
        session.execute(select(Device.id).where(Device.id == device.id).with_for_update())
    user = device.user
    scope = scope_for(session, user)
    known, taken = _receipts(session, device, batch)
    outcomes: list[Outcome] = []
    fresh: list[Mutation] = []
    seen: set[uuid.UUID] = set()
    for m in sorted(batch.mutations, key=lambda m: m.seq):
        if m.id in known or m.id in seen:
            outcomes.append(_already(m, known.get(m.id)))
        elif m.seq in taken:
            outcomes.append(_seq_taken(m))
        else:
            seen.add(m.id)
            fresh.append(m)
    state = load(session, fresh)
    own_failures(session, state, device.id, fresh)
    cells = cell_committees(session, state)
    writes: list[tuple[Mutation, Outcome, Write]] = []
    for m in fresh:
        work = Write()
        outcome = process(session, m, state, scope, cells, device, now, work, locate, rescue)
        writes.append((m, outcome, work))
    write(session, writes, device, now)
    echo.tell(writes, state, user.role)
    outcomes += [o for _, o, _ in writes]
    offset = None if batch.clock is None else int((now - batch.clock).total_seconds() * 1000)
    if offset is not None and abs(offset) > 2**31 - 1:
        # A clock more than ~24 days off (a phone set to 2000-01-01) explains nothing more
        # than "wrong"; and the column is a 32-bit INTEGER (PostgreSQL would fail the batch).
        offset = None
    if writes:
        receipts = [_receipt(m, o, device, now, offset) for m, o, _ in writes]
        insert_rows(session, cast(Table, SyncMutation.__table__), receipts)
    top = max([device.last_seq, *(m.seq for m in batch.mutations)])
    _note_push(session, device, {
        "last_seq": top, "last_push_at": now, "last_seen_at": now,
        "app_version": batch.app_version or device.app_version, "protocol": batch.protocol,
        "pending": device.pending if batch.pending is None else batch.pending})
    outcomes.sort(key=lambda o: o.seq)
    return PushResult(outcomes, top)


def _note_push(session: Session, device: Device, values: dict[str, Any]) -> None:
    """The device row's note of this push, as one UPDATE built once; the loaded row is told
    the same values as already stored. Through the unit of work, flushing this one changed
    object cost more than writing a push's ten visits."""
    session.connection().execute(_NOTE_PUSH, {"_device": device.id, **{f"_{k}": v for k, v in values.items()}})
    for name, value in values.items():
        set_committed_value(device, name, value)


_DEVICE = cast(Table, Device.__table__)
_NOTE_PUSH = (update(_DEVICE).where(_DEVICE.c.id == bindparam("_device"))
              .values({name: bindparam(f"_{name}") for name in
                       ("last_seq", "last_push_at", "last_seen_at", "app_version", "protocol", "pending")}))


def _receipts(session: Session, device: Device, batch: Batch) -> tuple[dict[uuid.UUID, Row[Any]], set[int]]:
    """In one query: the receipts of the batch's mutations seen before (by id), and the
    sequence numbers of this device already answered for under another mutation id."""
    if not batch.mutations:
        return {}, set()
    ids = {m.id for m in batch.mutations}
    rows = session.connection().execute(_receipts_query(is_postgresql(session)), {
        "ids": list(ids), "device": device.id, "seqs": list({m.seq for m in batch.mutations})}).all()
    known = {r.id: r for r in rows if r.id in ids}
    new_seqs = {m.seq for m in batch.mutations if m.id not in known}
    taken = {r.device_seq for r in rows if r.device_id == device.id and r.device_seq in new_seqs}
    return known, taken


@cache
def _receipts_query(postgresql: bool) -> Any:
    # Rows, not SyncMutation objects: only read, and loading them as objects cost more than
    # the query on every push. Only the columns an answer needs: a resent batch (its answer
    # lost on the way) reads a receipt for every mutation, and every column read is converted
    # (times parsed, ids made UUIDs) for each of them.
    t = _RECEIPTS.c
    return select(t.id, t.device_id, t.device_seq, t.outcome, t.detail, t.conflict_id, t.version).where(or_(
        listed(t.id, "ids", postgresql),
        and_(t.device_id == bindparam("device"), listed(t.device_seq, "seqs", postgresql))))


_RECEIPTS = cast(Table, SyncMutation.__table__)


def _seq_taken(m: Mutation) -> Outcome:
    # A broken outbox (a counter restored from an old copy): refused without a receipt, since the
    # number already holds one; the phone keeps the entry and resends it under a new number.
    return Outcome(m.id, m.seq, "rejected", m.type, m.record_id, errors=[{
        "field": "seq", "code": "seq.reused", "zh": f"序号 {m.seq} 已用于本机的另一条变更，请重新提交",
        "en": f"sequence number {m.seq} was already used by another change from this phone; resend it"}])


def _already(m: Mutation, stored: Row[Any] | None) -> Outcome:
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
        outcome.version = stored.version
        if stored.version is not None:
            outcome.told = detail.get("set", {})
    return outcome


def _receipt(m: Mutation, o: Outcome, device: Device, now: datetime, offset: int | None) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if o.errors:
        detail["errors"] = o.errors
    if o.blocked_by:
        detail["blocked_by"] = str(o.blocked_by)
    if o.canonical_id:
        detail["canonical_id"] = str(o.canonical_id)
    if o.told:
        detail["set"] = o.told
    return {"id": m.id, "device_id": device.id, "device_seq": m.seq, "record_type": m.type,
            "record_id": m.record_id, "op": m.op, "outcome": o.status, "detail": detail,
            "conflict_id": o.conflict_id, "received_at": now, "device_time": m.at,
            "clock_offset_ms": offset, "version": o.version if o.told is not None else None}
