"""Resolving conflicts: the centre's (or a committee's) decision, written as a new version.

A conflict holds three sides per field (base, registry, device). The person resolving
chooses per field: keep the registry's value, take the device's, or type another. Typed
and taken values go through the same rules as a push (`sync.validate.parse_fields`). The
record is written through the ORM, and always gets a new version, even when every field is
kept: the phone that sent the edit still shows its own value, and only a new version
brings the registry's value back to it (and to every other device) on the next pull.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from webapp.base.ids import new_id
from sync.resolve_rules import ResolveError, canonical_id, check_record, from_text, problem, redirect_refs
from sync.validate import parse_fields
from sync.wire import RECORD_TYPES, RecordType, to_wire
from webapp.models import Conflict, Device, House, Residency, ScopeChange, User
from webapp.models.base import Synced
from webapp.models.enums import ReviewKind
from webapp.registry.changes import apply_changes
from webapp.registry import removed_houses, scope_changes
from webapp.registry.review import open_review
from webapp.registry.scope import Scope
from webapp.base.timeutil import utcnow
from webapp.validation import FieldError

__all__ = ["CHOICES", "DELETE_FIELD", "Case", "Decision", "Filters", "FieldRow", "Resolution", "ResolveError", "Stale",
           "conflict_clause", "find_visible", "open_case", "queue", "resolve"]

CHOICES = ("keep", "take", "edit")
# Duplicates were merged by the push itself: the decision goes to the record they became.
MERGED_KINDS = frozenset({"duplicate_person", "duplicate_house"})
# A phone's delete has no fields: it is decided as this pseudo-field (take = delete it).
DELETE_FIELD = "_delete"


# ---------------------------------------------------------------- the queue

@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    committee_id: uuid.UUID | None = None
    cell_id: uuid.UUID | None = None
    older_than_days: int | None = None
    resolved: bool = False


def conflict_clause(scope: Scope) -> ColumnElement[bool]:
    """A conflict belongs to the cell of its house; one without a cell is the centre's."""
    if scope.cell_ids is None:
        return true()
    if not scope.cell_ids:
        return false()
    return Conflict.cell_id.in_(scope.cell_ids)


def queue(scope: Scope, filters: Filters, now: datetime | None = None) -> Select[Conflict]:
    """Open (or resolved) conflicts the scope sees, oldest first: the oldest wait longest."""
    query = select(Conflict).where(conflict_clause(scope))
    if filters.resolved:
        query = query.where(Conflict.resolved_at.is_not(None)).order_by(Conflict.resolved_at.desc())
    else:
        query = query.where(Conflict.resolved_at.is_(None)).order_by(Conflict.created_at, Conflict.id)
    if filters.kind:
        query = query.where(Conflict.kind == filters.kind)
    if filters.committee_id:
        query = query.where(Conflict.committee_id == filters.committee_id)
    if filters.cell_id:
        query = query.where(Conflict.cell_id == filters.cell_id)
    if filters.older_than_days:
        cutoff = (now or utcnow()) - timedelta(days=filters.older_than_days)
        query = query.where(Conflict.created_at <= cutoff)
    return query


def find_visible(session: Session, scope: Scope, conflict_id: uuid.UUID) -> Conflict | None:
    return session.scalar(select(Conflict).where(Conflict.id == conflict_id, conflict_clause(scope)))


# ---------------------------------------------------------------- one conflict, laid out

@dataclass
class FieldRow:
    """One field's sides, in wire form (what the phone sent and what the registry had)."""

    name: str
    base: Any
    registry: Any  # when the conflict arose
    current: Any  # now
    device: Any


@dataclass
class Case:
    conflict: Conflict
    rtype: RecordType
    target_id: uuid.UUID
    target: Synced | None  # None: the phone created a record the registry does not have
    op: str
    rows: list[FieldRow]
    device: Device | None
    user: User | None

    @property
    def creating(self) -> bool:
        return self.target is None

    @property
    def target_deleted(self) -> bool:
        return self.target is not None and self.target.deleted_at is not None


def open_case(session: Session, conflict: Conflict) -> Case:
    rtype = RECORD_TYPES[conflict.record_type]
    first = conflict.record_id
    if conflict.kind in MERGED_KINDS and conflict.detail.get("merged_into"):
        first = uuid.UUID(conflict.detail["merged_into"])
    target_id = canonical_id(session, first) if first is not None else new_id()
    target = session.get(rtype.model, target_id)
    op = str(conflict.detail.get("op") or "update")
    device = session.get(Device, conflict.device_id) if conflict.device_id else None
    user = session.get(User, conflict.user_id) if conflict.user_id else None
    return Case(conflict, rtype, target_id, target, op, _rows(conflict, rtype, target), device, user)


def _rows(conflict: Conflict, rtype: RecordType, target: Synced | None) -> list[FieldRow]:
    device = {k: v for k, v in conflict.device_values.items() if k in rtype.writable}
    if conflict.kind == "field":
        # Only the fields both sides changed: the others were taken by the push already.
        names = [n for n in conflict.registry_values if n in rtype.writable]
    else:
        names = [n for n, v in device.items()
                 if target is None or to_wire(getattr(target, n)) != v]
    rows = [FieldRow(n, conflict.base_values.get(n), conflict.registry_values.get(n),
                     None if target is None else to_wire(getattr(target, n)), device.get(n))
            for n in sorted(names)]
    if target is None and rtype.name == "residency" and "end_date" not in names:
        # A stay the phone recorded may be accepted as a past one: offer its end.
        rows.append(FieldRow("end_date", None, None, None, None))
    if conflict.detail.get("op") == "delete" and target is not None and target.deleted_at is None:
        rows.insert(0, FieldRow(DELETE_FIELD, False, False, False, True))
    return rows


# ---------------------------------------------------------------- deciding

@dataclass(frozen=True)
class Decision:
    choice: str  # keep | take | edit
    text: str | None = None  # what was typed, for "edit"


class Stale(Exception):
    """The record changed (or the conflict was resolved) since the page was shown."""


@dataclass
class Resolution:
    action: str  # update | create | delete | restore | discard
    target_id: uuid.UUID
    version: int | None
    choices: dict[str, str] = field(default_factory=dict)


def resolve(session: Session, case: Case, decisions: dict[str, Decision], by_user_id: int, *,
            expected_version: int | None, restore: bool = False, now: datetime | None = None) -> Resolution:
    """Write the decision as a new version and close the conflict; flush, no commit."""
    now = now or utcnow()
    conflict = case.conflict
    if conflict.resolved_at is not None:
        raise Stale("already resolved")
    if case.target is not None and expected_version is not None and case.target.version != expected_version:
        raise Stale("the record changed")
    wire, choices = _chosen(case, decisions)
    values: dict[str, Any] = {}
    if wire:
        if case.rtype.name == "person" and "id_number" in wire and "id_type" not in wire:
            # The number is checked against the record's own kind of document.
            wire["id_type"] = getattr(case.target, "id_type", None) or case.conflict.device_values.get("id_type")
        values, errors = parse_fields(case.rtype, wire, creating=case.creating)
        if errors:
            raise ResolveError(errors)
        redirect_refs(session, case.rtype, values)
    if case.target_deleted and values and not restore:
        raise ResolveError([problem("restore", "resolve.deleted", "该记录已删除：要写入这些值，请同时恢复记录",
                                    "the record is deleted: restore it to write these values")])
    was_open = getattr(case.target, "end_date", False) is None
    action, record = _write(session, case, values, choices, by_user_id, restore, now)
    try:
        with session.begin_nested():
            session.flush()
    except StaleDataError:
        raise Stale("the record changed") from None
    except IntegrityError:
        raise ResolveError([problem("record_id", "resolve.clash", "与其他同时写入的数据冲突，请刷新后重试",
                                    "clashed with data written at the same moment; reload and try again")]) from None
    _review(session, case, action, record, choices, was_open)
    resolution = Resolution(action, case.target_id, record.version if record is not None else None, choices)
    conflict.resolved_at = now
    conflict.resolved_by_id = by_user_id
    conflict.resolution = {"action": action, "target_id": str(case.target_id), "version": resolution.version,
                           "fields": {n: {"choice": c, "value": to_wire(wire.get(n))} if c != "keep" else {"choice": c}
                                      for n, c in choices.items()}}
    session.flush()
    return resolution


def _review(session: Session, case: Case, action: str, record: Synced | None, choices: dict[str, str],
            was_open: bool) -> None:
    """The coordinator's registration, or move-out, that the centre took from the phone goes
    to review as it would have had the push applied it (sync/reviews.py): the centre settled
    the clash, not whether the entry is right."""
    if case.rtype.name != "residency" or not isinstance(record, Residency) or case.conflict.user_id is None:
        return
    if action == "create":
        kind = ReviewKind.REGISTRATION
    elif action == "update" and was_open and record.end_date is not None and choices.get("end_date") == "take":
        kind = ReviewKind.MOVE_OUT
    else:
        return
    coordinator = session.get(User, case.conflict.user_id)
    if coordinator is not None:
        open_review(session, record, kind, coordinator)


def _chosen(case: Case, decisions: dict[str, Decision]) -> tuple[dict[str, Any], dict[str, str]]:
    """The wire values to write (taken or typed) and each field's choice."""
    wire: dict[str, Any] = {}
    choices: dict[str, str] = {}
    errors: list[FieldError] = []
    for row in case.rows:
        decision = decisions.get(row.name, Decision("keep"))
        if decision.choice not in CHOICES:
            errors.append(problem(row.name, "resolve.choice", "请选择保留、采用或修改",
                                  "choose keep, take or edit"))
            continue
        choices[row.name] = decision.choice
        if row.name == DELETE_FIELD:
            if decision.choice == "edit":
                errors.append(problem(row.name, "resolve.choice", "删除只能保留或采用", "a deletion is kept or taken"))
            continue
        if decision.choice == "take":
            wire[row.name] = row.device
        elif decision.choice == "edit":
            try:
                wire[row.name] = from_text(case.rtype.table.c[row.name].type, row.name, decision.text)
            except ValueError as bad:
                errors.append(problem(row.name, "field.type", f"{row.name} 的值格式不对",
                                      f"{row.name} has a value of the wrong type ({bad})"))
    if errors:
        raise ResolveError(errors)
    return wire, choices


def _write(session: Session, case: Case, values: dict[str, Any], choices: dict[str, str], by_user_id: int,
           restore: bool, now: datetime) -> tuple[str, Synced | None]:
    if case.creating:
        if not values:
            return "discard", None  # every field kept: the registry stays without the record
        _refuse_removed_house(session, case.rtype.name, dict(values), None)
        check_record(session, case.rtype.name, case.target_id, dict(values))
        session.flush()  # an older residency ends before the new one is written
        return "create", _create(session, case, values, by_user_id)
    record = case.target
    assert record is not None
    deleting = choices.get(DELETE_FIELD) == "take" and record.deleted_at is None
    deleted_at = now if deleting else None if restore else record.deleted_at
    before = {c.key: getattr(record, c.key) for c in case.rtype.table.columns}
    state = before | values | {"deleted_at": deleted_at}
    _refuse_removed_house(session, case.rtype.name, state, before)
    check_record(session, case.rtype.name, record.id, state)
    for change in scope_changes.of_edit(case.rtype.name, before, state, lambda h: _cell_of(session, h)):
        session.add(ScopeChange(**change))
    session.flush()
    action = "update"
    if record.deleted_at is not None and restore:
        record.deleted_at = None
        action = "restore"
    apply_changes(record, values, by_user_id)
    if deleting:
        record.tombstone(by_user_id)
        action = "delete"
    # Always a new version, so the decision reaches the phone that still shows its own value.
    record.changed_at = now
    record.changed_by_id = by_user_id
    return action, record


def _cell_of(session: Session, house_id: uuid.UUID | None) -> uuid.UUID | None:
    house = session.get(House, house_id) if house_id is not None else None
    return house.cell_id if house is not None else None


def _refuse_removed_house(session: Session, kind: str, after: dict[str, Any], before: dict[str, Any] | None) -> None:
    """The centre may place a stay the phone brought elsewhere or end it, not write it at a
    house that is gone (webapp/registry/removed_houses.py, as the push decides)."""
    if kind not in removed_houses.STANDING or after.get("house_id") is None:
        return
    house = session.get(House, after["house_id"])
    row = {"deleted_at": house.deleted_at} if house is not None else None
    if removed_houses.newly_stands(kind, after, before, row):
        raise ResolveError([problem("house_id", "house.removed", removed_houses.ZH, removed_houses.EN)])


def _create(session: Session, case: Case, values: dict[str, Any], by_user_id: int) -> Synced:
    extra: dict[str, Any] = {}
    if case.rtype.name == "visit":
        extra["user_id"] = case.conflict.user_id  # the coordinator at the door, not the centre
    # Synced is a mixin: the keyword constructor comes with Base, which every synced model also subclasses.
    new = cast(Callable[..., Synced], case.rtype.model)
    record = new(id=case.target_id, changed_by_id=by_user_id, **extra)
    apply_changes(record, values, by_user_id)
    session.add(record)
    return record
