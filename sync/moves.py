"""The semantic cases of creating records offline: the same person or house recorded
twice, and a person moving house (normal, not a conflict)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.base.ids import new_id
from sync import conflicts
from sync.batch import Mutation, Outcome
from sync.reach import Reach
from sync.state import State, fetch, live_persons, open_residencies
from sync.wire import to_wire
from sync.write import Write, conflict_outcome, update_row
from webapp.models import Device, House, RecordAlias, ScopeChange, Task
from webapp.registry import privacy, scope_changes
from webapp.registry.tasks.records import move_out_text


ADDRESS = ("road", "number", "building", "unit", "room")


def same_address(session: Session, values: dict[str, Any]) -> list[uuid.UUID]:
    """The live houses at exactly this address (two coordinators found the same new flat)."""
    clauses = [House.deleted_at.is_(None)]
    for part in ADDRESS:
        column = getattr(House, part)
        clauses.append(column.is_(None) if values.get(part) is None else column == values[part])
    return list(session.scalars(select(House.id).where(*clauses).order_by(House.id)))


def twins(session: Session, state: State, number: str | None, but: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """The live persons holding this ID number (other than `but`), best candidates first."""
    if not number:
        return []
    if number not in state.numbers_loaded:  # load() fetched the numbers of the batch's persons
        live_persons(session, state, {number})
    return [t for t in state.live_persons_with(number) if t["id"] != but]


def within(session: Session, state: State, reach: Reach, person_id: uuid.UUID) -> bool:
    """Whether the device may see this registered person (loading where they live first)."""
    if reach.everywhere:
        return True
    fetch(session, state, "house", open_residencies(session, state, {person_id}))
    return reach.person(person_id)


def visible_twin(session: Session, state: State, reach: Reach,
                 found: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, uuid.UUID | None]:
    """Of the records sharing a number, the first the device may see (to merge with), else
    the one to claim in a case for the centre (the registry's holder of the number). Which
    of them exist outside the device's cells must make no difference to what it is told.
    Nor which exist inside them, to a role that sees ID numbers only masked: a merge would
    confirm a guessed number of a resident it sees masked (privacy.unclear)."""
    if found and "id_number" in privacy.unclear(reach.scope.role, "person"):
        return None, found[0].get("claims_id_of") or found[0]["id"]
    for twin in found:
        if within(session, state, reach, twin["id"]):
            return twin, None
    if not found:
        return None, None
    return None, found[0].get("claims_id_of") or found[0]["id"]


def hold_for_centre(m: Mutation, work: Write, ctx: conflicts.Context, kind: str, other: uuid.UUID,
                    now: datetime) -> None:
    """A case for the centre that the device is not told of: its record stands as typed (so
    the answer is the one it would get if `other`, outside its cells, did not exist)."""
    quiet = conflicts.Context(device=ctx.device, mutation=m, house_id=None, cell_id=None)
    work.extras.append((conflicts.TABLE, conflicts.row(quiet, kind, base={}, registry={}, device=m.fields,
                                                       detail={"other": str(other)}, now=now)))


def merge_twin(session: Session, m: Mutation, rid: uuid.UUID, twin: dict[str, Any], values: dict[str, Any], state: State,
                ctx: conflicts.Context, now: datetime, work: Write, device: Device) -> Outcome:
    """The same person created twice offline: one record, the second id an alias of it."""
    canonical = twin["id"]
    state.alias[rid] = canonical
    # The merged person's own open residency decides whether a residency sent with it is a move.
    fetch(session, state, "house", open_residencies(session, state, {canonical}))
    work.extras.append((RecordAlias.__table__, {"alias_id": rid, "canonical_id": canonical,
                                                "record_type": "person", "created_at": now,
                                                "mutation_id": m.id}))
    # What the registry lacks is filled in; what differs goes to the centre.
    fill = {k: v for k, v in values.items() if twin.get(k) in (None, "") and v not in (None, "")}
    differ = {k: v for k, v in values.items()
              if twin.get(k) not in (None, "") and to_wire(twin.get(k)) != to_wire(v)}
    if fill:
        update_row(m.type, twin, fill, now, work, device, state)
    if differ:
        out = conflict_outcome(m, work, ctx, "duplicate_person", {}, {k: to_wire(twin.get(k)) for k in differ}, now,
                        detail={"merged_into": str(canonical)}, status="merged", canonical=canonical)
        return out
    return Outcome(m.id, m.seq, "merged", m.type, m.record_id, canonical_id=canonical)


def move_house(m: Mutation, values: dict[str, Any], state: State, ctx: conflicts.Context,
                now: datetime, work: Write, device: Device) -> Outcome | None:
    """A new open residency for someone living elsewhere: moving is normal, not a conflict."""
    if values.get("end_date") is not None:
        return None
    person_id = values["person_id"]
    for old in state.open_residencies(person_id):
        if old["house_id"] == values["house_id"]:
            # Already living there: the same fact recorded twice. Kept as an alias, like a
            # merged person: a phone that never heard this answer (lost on the way) edits its
            # copy offline, and that edit must reach the registry's residency, not the centre.
            state.alias[m.record_id] = old["id"]
            work.extras.append((RecordAlias.__table__, {"alias_id": m.record_id, "canonical_id": old["id"],
                                                        "record_type": "residency", "created_at": now,
                                                        "mutation_id": m.id}))
            return Outcome(m.id, m.seq, "merged", m.type, m.record_id, canonical_id=old["id"])
        if values["start_date"] <= old["start_date"]:
            # Two open residencies that overlap in time: a person cannot live in both.
            return conflict_outcome(m, work, ctx, "overlapping_residency", {},
                             {k: to_wire(v) for k, v in old.items() if k in ("id", "house_id", "start_date")},
                             now, detail={"other_residency": str(old["id"])})
        end = max(old["start_date"], values["start_date"] - timedelta(days=1))
        update_row("residency", old, {"end_date": end, "end_reason": "moved"}, now, work, device, state)
        old_house = state.get("house", old["house_id"]) or {}
        if old_house.get("cell_id") is not None:
            # The old cell's coordinator confirms the move-out at the door.
            person = state.get("person", person_id) or {}
            work.extras.append((Task.__table__, _move_out_task(old_house, person.get("name"), now)))
            work.extras.append((ScopeChange.__table__, scope_changes.row(old_house["cell_id"], "person", person_id, "leave")))
    return None


def _move_out_task(house: dict[str, Any], name: str | None, now: datetime) -> dict[str, Any]:
    return {"id": new_id(), "version": 1, "changed_at": now, "house_id": house["id"],
            "cell_id": house["cell_id"], "kind": "moved_out", "status": "open", "source": "sync",
            "text": move_out_text(name),
            "created_at": now}
