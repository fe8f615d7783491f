"""One mutation, in memory: validate, check references and scope, then create or merge."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sync import conflicts, reviews
from sync.batch import DELETABLE, Mutation, Outcome
from sync.merge import three_way
from sync.moves import hold_for_centre, merge_twin, move_house, same_address, twins, visible_twin
from sync.reach import Locate, Reach, outside
from sync.state import CellCommittees, State, fetch
from sync.validate import linked_problems, parse_fields
from sync.wire import RECORD_TYPES, to_wire
from sync.write import Write, conflict_outcome, stamp_person, update_row
from webapp.models import Device, RecordAlias, ScopeChange
from webapp.models.enums import ReviewKind
from webapp.registry import privacy, removed_houses, scope_changes
from webapp.registry.scope import Scope


def process(session: Session, m: Mutation, state: State, scope: Scope, cells: CellCommittees,
             device: Device, now: datetime, work: Write, locate: Locate, rescue: bool = False) -> Outcome:
    if not scope.may("edit") and not rescue:
        # Police read every cell and reporters none; neither changes the registry, by sync
        # no more than in the console. Refused, not a conflict: the phone keeps the entry.
        state.failed[m.record_id] = m.id
        return Outcome(m.id, m.seq, "rejected", m.type, m.record_id, errors=[problem(
            "role.read_only", "此角色只能查看，不能修改登记", "this role may look but not change the registry")])
    if m.problems:
        state.failed[m.record_id] = m.id
        return Outcome(m.id, m.seq, "rejected", m.type, m.record_id, errors=list(m.problems))
    rtype = RECORD_TYPES[m.type]
    rid = state.alias.get(m.record_id, m.record_id)
    creating = m.op == "create"
    values, errors = parse_fields(rtype, m.fields, creating=creating)
    blocker = _blocked_by(m, values, state)
    if blocker is not None:
        state.failed[m.record_id] = m.id
        return Outcome(m.id, m.seq, "blocked", m.type, m.record_id, blocked_by=blocker)
    reach = Reach(state, scope, locate)
    errors_wire = [e.as_dict() for e in errors]
    op_problem = _op_problem(m, rtype, rid, state, reach)
    if op_problem:
        errors_wire.append(op_problem)
    if errors_wire:
        state.failed[m.record_id] = m.id
        return Outcome(m.id, m.seq, "rejected", m.type, m.record_id, errors=errors_wire)
    _redirect_refs(values, rtype, state)
    house = _house_of(m.type, rid, values, state)
    cell_id = house.get("cell_id") if house else values.get("cell_id")
    ctx = conflicts.Context(device=device, mutation=m, house_id=house["id"] if house else None,
                            cell_id=cell_id, cells=cells)
    if not scope.may("edit"):
        # A rescue file typed before its user became read-only: the phone that typed it was
        # wiped once it handed the file over, so what it carries waits for the centre whole.
        return conflict_outcome(m, work, ctx, "out_of_scope", {}, state.get(m.type, rid) or {}, now,
                                detail={"held": "role_read_only", "role": str(scope.role)})
    if outside(m, rid, values, rtype.refs, reach):
        # Before any check that reads the registry: what lies outside (or nowhere) answers
        # alike, and what was typed waits for the centre rather than being lost.
        return conflict_outcome(m, work, ctx, "out_of_scope", {}, state.get(m.type, rid) or {}, now)
    missing = _missing_refs(values, rtype, state) or linked_problems(m.type, rid, values, state)
    if missing:
        state.failed[m.record_id] = m.id
        return Outcome(m.id, m.seq, "rejected", m.type, m.record_id, errors=missing)
    if _at_removed_house(m, rid, values, state):
        # Typed offline before the house went: kept whole for the centre, who may place the
        # stay elsewhere or end it, and the phone learns the house is gone.
        house_row = state.get("house", values.get("house_id") or (state.get(m.type, rid) or {}).get("house_id")) or {}
        return conflict_outcome(m, work, ctx, "house_removed", {}, {
            "house_id": to_wire(house_row.get("id")), "deleted_at": to_wire(house_row.get("deleted_at"))}, now)
    if m.type == "review":
        # Deciding a review is not typed data to keep for the centre: outside one's role
        # it is refused (review.transition), like any other illegal move.
        refused = reviews.problems(scope, cell_id, state.get(m.type, rid), values)
        if refused:
            state.failed[m.record_id] = m.id
            return Outcome(m.id, m.seq, "rejected", m.type, m.record_id, errors=refused)
    if creating:
        return create(session, m, rid, values, state, ctx, now, work, device, reach)
    return change(session, m, rid, values, state, ctx, now, work, device, reach)


def _blocked_by(m: Mutation, values: dict[str, Any], state: State) -> uuid.UUID | None:
    if m.record_id in state.failed and m.op != "create":
        return state.failed[m.record_id]
    for name, _kind in RECORD_TYPES[m.type].refs:
        ref = values.get(name)
        if ref in state.failed:
            return state.failed[ref]
    return None


def _op_problem(m: Mutation, rtype: Any, rid: uuid.UUID, state: State, reach: Reach) -> dict[str, Any] | None:
    # A scoped device is not told that a record does not exist (sync/reach.py answers it).
    exists = state.get(m.type, rid) is not None or not reach.everywhere
    if m.op == "create" and not rtype.creatable:
        return problem("op.not_allowed", "此类记录不能在手机上新建", "this record type cannot be created from the app")
    if m.op == "update" and not rtype.editable:
        return problem("op.not_allowed", "此类记录建立后不能修改", "this record type cannot be edited once made")
    if m.op == "delete" and m.type not in DELETABLE:
        return problem("op.not_allowed", "此类记录不能删除", "this record type cannot be deleted")
    if m.op != "create" and not exists:
        return problem("record.unknown", "要修改的记录不存在", "the record to change does not exist")
    if m.op != "create" and m.base_version is None:
        return problem("base_version.required", "缺少基准版本号", "base_version is required for a change")
    return None


def problem(code: str, zh: str, en: str, field_name: str = "record_id") -> dict[str, Any]:
    return {"field": field_name, "code": code, "zh": zh, "en": en}


def _redirect_refs(values: dict[str, Any], rtype: Any, state: State) -> None:
    for name, _kind in rtype.refs:
        if values.get(name) in state.alias:
            values[name] = state.alias[values[name]]


def _missing_refs(values: dict[str, Any], rtype: Any, state: State) -> list[dict[str, Any]]:
    out = []
    for name, kind in rtype.refs:
        ref = values.get(name)
        if ref is not None and kind in ("house", "person", "unit", "room") and state.get(kind, ref) is None:
            out.append(problem("ref.unknown", f"{name} 指向不存在的记录", f"{name} points to a record that does not exist", name))
    return out


def _at_removed_house(m: Mutation, rid: uuid.UUID, values: dict[str, Any], state: State) -> bool:
    if m.type not in removed_houses.STANDING or m.op == "delete":
        return False
    before = None if m.op == "create" else state.get(m.type, rid)
    after = values if before is None else {**before, **values}
    return removed_houses.newly_stands(m.type, after, before, state.get("house", after.get("house_id")))


def _house_of(kind: str, rid: uuid.UUID, values: dict[str, Any], state: State) -> dict[str, Any] | None:
    if kind == "house":
        return state.get("house", rid)
    if kind == "person":
        living = state.open_residencies(rid)
        return state.get("house", living[0]["house_id"]) if living else None
    row = state.get(kind, rid) or {}
    return state.get("house", values.get("house_id") or row.get("house_id"))


def create(session: Session, m: Mutation, rid: uuid.UUID, values: dict[str, Any], state: State,
            ctx: conflicts.Context, now: datetime, work: Write, device: Device, reach: Reach) -> Outcome:
    existing = state.get(m.type, rid)
    if existing is not None and rid != m.record_id:
        # This id was merged into another record by an earlier create (an alias): this is that
        # create again under a new mutation id, answered as the first time was. What it typed
        # otherwise went to the centre then, if it mattered (duplicate_person).
        return Outcome(m.id, m.seq, "merged", m.type, m.record_id, canonical_id=rid)
    if existing is not None:
        differ = sorted(k for k, v in values.items() if to_wire(existing.get(k)) != to_wire(v))
        if not differ:
            # An earlier push made it with these values (a retry under a new mutation id).
            return Outcome(m.id, m.seq, "merged", m.type, m.record_id, canonical_id=rid)
        # Another record under an id that is taken: what was typed waits for the centre.
        return conflict_outcome(m, work, ctx, "id_reused", {}, {k: existing.get(k) for k in differ}, now,
                                detail={"fields": differ})
    held: dict[str, Any] = {}
    if m.type == "person":
        twin, claimed = visible_twin(session, state, reach, twins(session, state, values.get("id_number")))
        if twin is not None:
            return merge_twin(session, m, rid, twin, values, state, ctx, now, work, device)
        if claimed is not None:
            held = {"claims_id_of": claimed}
            hold_for_centre(m, work, ctx, "identity_elsewhere", claimed, now)
    if m.type == "house":
        found = same_address(session, values)
        fetch(session, state, "house", set(found))
        twin_house = next((h for h in found if reach.house(h)), None)
        if twin_house is None and found:
            hold_for_centre(m, work, ctx, "address_elsewhere", found[0], now)
        if twin_house is not None:
            state.alias[rid] = twin_house
            work.extras.append((RecordAlias.__table__, {"alias_id": rid, "canonical_id": twin_house,
                                                        "record_type": "house", "created_at": now,
                                                        "mutation_id": m.id}))
            return conflict_outcome(m, work, ctx, "duplicate_house", {}, {"id": str(twin_house)}, now,
                             detail={"merged_into": str(twin_house)}, status="merged", canonical=twin_house)
    if m.type == "residency":
        moved = move_house(m, values, state, ctx, now, work, device)
        if moved is not None:
            return moved
    row = {**values, **held, "id": rid, "version": 1, "changed_at": now, "changed_by_id": device.user_id}
    if m.type == "person":
        stamp_person(row)
        if row.get("permit_endorsed_on"):
            row["permit_endorsed_by_id"] = device.user_id
    if m.type == "visit":
        row.setdefault("plate_scanned", False)
        # The visitor is whoever holds the phone: the walking-speed check follows them.
        row["user_id"] = device.user_id
    state.add(m.type, row)
    state.new[m.type].add(rid)
    work.inserts.append((m.type, row))
    if m.type == "residency":
        reviews.submitted(session, ReviewKind.REGISTRATION, row, state, ctx, device, now, work)
    return Outcome(m.id, m.seq, "applied", m.type, m.record_id, version=1)


def change(session: Session, m: Mutation, rid: uuid.UUID, values: dict[str, Any], state: State,
           ctx: conflicts.Context, now: datetime, work: Write, device: Device, reach: Reach) -> Outcome:
    current = state.get(m.type, rid)
    assert current is not None
    if current.get("deleted_at") is not None:
        return conflict_outcome(m, work, ctx, "edit_deleted", m.base, {"deleted_at": to_wire(current["deleted_at"])}, now)
    if m.op == "delete":
        values = {"deleted_at": now}
    same = m.base_version == current["version"]
    # A review's change was checked against its status now (sync/reviews.py): nothing to merge.
    merged = three_way(current, _base_values(m), values, m.fields, same_version=same or m.type == "review",
                       unseen=privacy.unclear(reach.scope.role, m.type))
    ended = m.type == "residency" and current.get("end_date") is None and current.get("deleted_at") is None \
        and merged.take.get("end_date") is not None
    if m.type == "review":
        reviews.server_fields(merged.take, device, now)
    if m.type == "person" and merged.take.get("id_number") not in (None, current.get("id_number")):
        _renumbered(session, m, rid, merged.take, current, state, reach, ctx, now, work)
    if m.type == "person" and "permit_endorsed_on" in merged.take:
        # Who recorded the endorsement: the phone's user, as in the console.
        merged.take["permit_endorsed_by_id"] = device.user_id if merged.take["permit_endorsed_on"] else None
    if m.type == "task" and merged.take.get("status") in ("done", "rejected"):
        merged.take["closed_by_id"] = device.user_id  # who closed it: the phone's user, as in the console
    if merged.take:
        before = dict(current) if m.type in ("house", "residency") else None
        update_row(m.type, current, merged.take, now, work, device, state)
        if before is not None:
            work.extras += [(ScopeChange.__table__, r) for r in scope_changes.of_edit(
                m.type, before, current, lambda h: (state.get("house", h) or {}).get("cell_id"))]
    if ended:
        reviews.submitted(session, ReviewKind.MOVE_OUT, current, state, ctx, device, now, work)
    if merged.conflicts:
        return conflict_outcome(m, work, ctx, "field", {k: v["base"] for k, v in merged.conflicts.items()},
                         {k: v["registry"] for k, v in merged.conflicts.items()}, now,
                         detail={"fields": sorted(merged.conflicts), "taken": sorted(merged.take)})
    status = "applied" if same else "merged"
    return Outcome(m.id, m.seq, status, m.type, m.record_id, version=current["version"])


def _renumbered(session: Session, m: Mutation, rid: uuid.UUID, take: dict[str, Any], current: dict[str, Any],
                state: State, reach: Reach, ctx: conflicts.Context, now: datetime, work: Write) -> None:
    """A person's ID number corrected on the phone to one someone outside its cells holds:
    held for the centre, as a registration would be (sync/moves.py visible_twin)."""
    twin, claimed = visible_twin(session, state, reach, twins(session, state, take["id_number"], but=rid))
    if twin is None and claimed is not None:
        take["claims_id_of"] = claimed
        hold_for_centre(m, work, ctx, "identity_elsewhere", claimed, now)
    elif twin is None and current.get("claims_id_of") is not None:
        take["claims_id_of"] = None  # corrected to a number nobody else holds


def _base_values(m: Mutation) -> dict[str, Any]:
    return dict(m.base)
