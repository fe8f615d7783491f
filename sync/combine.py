"""Merging two records that are one: two persons, or two houses (不重复).

Everything hanging off the duplicate (the loser) moves to the survivor, the loser becomes
a tombstone, and an alias sends phones' later mutations naming the loser to the survivor.
Every row is changed through the ORM, so each gets a new version and the commit numbers it:
the merge reaches every device on its next pull.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.resolve_rules import ResolveError, problem
from webapp.models import (
    Cell, Conflict, House, HouseCode, HouseEvent, HouseFlag, Person, RecordAlias, Residency, Review, Room,
    ScopeChange, Task, Unit, Visit,
)
from webapp.models.base import Synced
from webapp.registry.changes import apply_changes
from webapp.base.timeutil import utcnow

# Filled in on the survivor where it has nothing; identity (ID number, sex, birth date) never.
PERSON_FILL: tuple[str, ...] = ("phone", "landline", "phone_status", "hukou_region", "hukou_road", "hukou_number",
                                "hukou_building", "hukou_room", "hukou_address", "permit_number", "permit_issued",
                                "permit_expiry", "permit_endorsed_on", "permit_endorsed_by_id", "employer_unit_id",
                                "note")
HOUSE_FILL: tuple[str, ...] = ("floor", "lon", "lat", "floor_area", "living_area", "note")


@dataclass
class Combined:
    record_type: str
    survivor_id: uuid.UUID
    loser_id: uuid.UUID
    moved: dict[str, int] = field(default_factory=dict)


def combine(session: Session, record_type: str, survivor: Synced, loser: Synced, by_user_id: int,
          now: datetime | None = None) -> Combined:
    """Merge `loser` into `survivor`; flush, no commit."""
    now = now or utcnow()
    if survivor.id == loser.id:
        raise ResolveError([problem("loser", "merge.same", "不能与自身合并", "a record cannot be merged with itself")])
    for name, record in (("survivor", survivor), ("loser", loser)):
        if record.deleted_at is not None:
            raise ResolveError([problem(name, "merge.deleted", "该记录已删除或已合并", "this record is deleted or merged")])
    if record_type == "person":
        assert isinstance(survivor, Person) and isinstance(loser, Person)
        moved = _persons(session, survivor, loser, by_user_id, now)
        fill = PERSON_FILL
    elif record_type == "house":
        assert isinstance(survivor, House) and isinstance(loser, House)
        moved = _houses(session, survivor, loser, by_user_id, now)
        fill = HOUSE_FILL
    else:
        raise ValueError(record_type)
    blanks = {n: getattr(loser, n) for n in fill if getattr(survivor, n) in (None, "") and getattr(loser, n) not in (None, "")}
    apply_changes(survivor, blanks, by_user_id)
    # Phones' ids that meant the loser now mean the survivor, and so does the loser's own id.
    session.execute(update(RecordAlias).where(RecordAlias.canonical_id == loser.id)
                    .values(canonical_id=survivor.id))
    session.add(RecordAlias(alias_id=loser.id, canonical_id=survivor.id, record_type=record_type, created_at=now))
    loser.tombstone(by_user_id)
    # A new version of the survivor even if nothing in it changed: phones that now see it
    # (through a moved residency) receive it on the next pull.
    survivor.changed_at = now
    survivor.changed_by_id = by_user_id
    session.flush()
    return Combined(record_type, survivor.id, loser.id, moved)


def _touch(row: Synced, by_user_id: int, **values: Any) -> None:
    for name, value in values.items():
        setattr(row, name, value)
    row.changed_by_id = by_user_id


def _persons(session: Session, survivor: Person, loser: Person, by_user_id: int, now: datetime) -> dict[str, int]:
    moving = session.scalars(select(Residency).where(
        Residency.person_id == loser.id, Residency.deleted_at.is_(None))).all()
    kept = session.scalar(select(Residency).where(
        Residency.person_id == survivor.id, Residency.end_date.is_(None), Residency.deleted_at.is_(None)))
    theirs = next((r for r in moving if r.end_date is None), None)
    if theirs is not None:
        # Phones that held the loser through its house drop it (its tombstone has no cell).
        cell_id = session.scalar(select(House.cell_id).where(House.id == theirs.house_id))
        if cell_id is not None:
            session.add(ScopeChange(cell_id=cell_id, record_type="person", record_id=loser.id, kind="leave"))
    if kept is not None and theirs is not None:
        _one_open(session, kept, theirs, by_user_id)
        session.flush()  # before any residency changes hands: one open residency per person
    for residency in moving:
        if residency.deleted_at is None:
            _touch(residency, by_user_id, person_id=survivor.id)
    return {"residency": len(moving)}


def _one_open(session: Session, kept: Residency, theirs: Residency, by_user_id: int) -> None:
    """Two open residencies become one: the same house twice is one fact; two houses, a move."""
    if kept.house_id == theirs.house_id:
        theirs.tombstone(by_user_id)
        return
    newer, older = (theirs, kept) if theirs.start_date > kept.start_date else (kept, theirs)
    _touch(older, by_user_id, end_date=max(older.start_date, newer.start_date - timedelta(days=1)),
           end_reason="merged")
    cell_id = session.scalar(select(House.cell_id).where(House.id == older.house_id))
    if cell_id is not None and older.house_id != newer.house_id:
        session.add(ScopeChange(cell_id=cell_id, record_type="person", record_id=kept.person_id, kind="leave"))


def _houses(session: Session, survivor: House, loser: House, by_user_id: int, now: datetime) -> dict[str, int]:
    moved: dict[str, int] = {}
    open_kinds = {f.kind for f in session.scalars(select(HouseFlag).where(
        HouseFlag.house_id == survivor.id, HouseFlag.cleared_at.is_(None), HouseFlag.deleted_at.is_(None)))}
    flags = _children(session, HouseFlag, loser.id)
    for flag in flags:
        if flag.cleared_at is None and flag.kind in open_kinds:
            flag.tombstone(by_user_id)  # the survivor already carries this open flag
    session.flush()  # before the others move: one open flag of a kind per house
    has_plate = session.scalar(select(HouseCode.id).where(
        HouseCode.house_id == survivor.id, HouseCode.kind == "plate", HouseCode.retired_at.is_(None),
        HouseCode.deleted_at.is_(None))) is not None
    codes = _children(session, HouseCode, loser.id)
    for code in codes:
        # Both plated: the survivor's plate stays; the loser's still resolves, as retired.
        extra = {"retired_at": now} if code.kind == "plate" and has_plate and code.retired_at is None else {}
        _touch(code, by_user_id, house_id=survivor.id, **extra)
    moved["house_code"] = len(codes)
    for model in (Room, Unit, Visit, Residency):
        rows = _children(session, model, loser.id)
        for row in rows:
            _touch(row, by_user_id, house_id=survivor.id)
            if model is Residency and row.end_date is None and loser.cell_id != survivor.cell_id:
                # The occupants now live in another cell: a new version brings them to its phones.
                occupant = session.get(Person, row.person_id)
                if occupant is not None:
                    _touch(occupant, by_user_id, changed_at=now)
        moved[model.__tablename__] = len(rows)
    for flag in flags:
        if flag.deleted_at is None:
            _touch(flag, by_user_id, house_id=survivor.id)
    moved["house_flag"] = len(flags)
    tasks = _children(session, Task, loser.id)
    for task in tasks:
        _touch(task, by_user_id, house_id=survivor.id,
               **({"cell_id": survivor.cell_id} if task.status == "open" else {}))
    moved["task"] = len(tasks)
    reviews = _children(session, Review, loser.id)
    for review in reviews:
        # Phones pull reviews with their house; one still waiting goes to the survivor's lead.
        _touch(review, by_user_id, house_id=survivor.id,
               **({"cell_id": survivor.cell_id} if review.status != "approved" else {}))
    moved["review"] = len(reviews)
    _follow_conflicts(session, survivor, loser)
    for house, other, role in ((survivor, loser, "survivor"), (loser, survivor, "merged_away")):
        session.add(HouseEvent(house_id=house.id, kind="merged", at=now, related_house_ids=[str(other.id)],
                               detail={"role": role}, changed_by_id=by_user_id))
    if loser.cell_id is not None and loser.cell_id != survivor.cell_id:
        # Phones of the loser's cell drop it and what hung off it (now the survivor's).
        session.add(ScopeChange(cell_id=loser.cell_id, record_type="house", record_id=loser.id, kind="leave"))
    return moved


def _children(session: Session, model: Any, house_id: uuid.UUID) -> list[Any]:
    return list(session.scalars(select(model).where(model.house_id == house_id, model.deleted_at.is_(None))))


def _follow_conflicts(session: Session, survivor: House, loser: House) -> None:
    """Open conflicts about the loser now wait in the survivor's cell's queue."""
    committee_id = session.scalar(select(Cell.committee_id).where(Cell.id == survivor.cell_id)) \
        if survivor.cell_id else None
    session.execute(update(Conflict).where(Conflict.house_id == loser.id, Conflict.resolved_at.is_(None))
                    .values(house_id=survivor.id, cell_id=survivor.cell_id, committee_id=committee_id))
