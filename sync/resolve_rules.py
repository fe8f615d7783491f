"""The registry's rules a resolution must keep, checked before it is written.

A push relies on unique indexes and its own merge; a resolution is one person's decision
on one record, so the rules are checked first and reported at the field (in Chinese and
English) rather than surfacing as a database error.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, select
from sqlalchemy.orm import Session

from sync.validate import ROOM_ELSEWHERE
from sync.wire import RecordType
from webapp.models import Cell, House, HouseCode, HouseFlag, Person, RecordAlias, Residency, Room, ScopeChange, Unit
from webapp.models.base import Synced, UTCDateTime
from webapp.base.timeutil import LOCAL_TZ
from webapp.validation import FieldError

_ALIAS_HOPS = 10  # a record merged into one that was merged again, and so on
_REF_MODELS: dict[str, type[Synced]] = {"house": House, "person": Person, "unit": Unit, "room": Room, "cell": Cell}
_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否"}


class ResolveError(Exception):
    """The decision cannot be written: errors at the fields, in Chinese and English."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.en for e in errors))
        self.errors = errors


def problem(field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en)


def from_text(column_type: Any, name: str, text: str | None) -> Any:
    """What a person typed → the value a phone would have sent for that field.

    Left as text where it does not convert, so that `parse_fields` reports it with the
    push's own error codes.
    """
    text = (text or "").strip()
    if not text:
        return None
    if isinstance(column_type, Boolean):
        low = text.lower()
        return True if low in _TRUE else False if low in _FALSE else text
    if isinstance(column_type, Integer):
        try:
            return int(text)
        except ValueError:
            return text
    if isinstance(column_type, Float):
        try:
            return float(text)
        except ValueError:
            return text
    if isinstance(column_type, JSON):
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError("JSON") from None
    if isinstance(column_type, UTCDateTime):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        # People type local (Shanghai) times; phones send zoned ones.
        return (moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)).isoformat()
    return text


def canonical_id(session: Session, record_id: uuid.UUID) -> uuid.UUID:
    """Follow aliases: an id a phone made, or a record merged away, means its survivor."""
    for _ in range(_ALIAS_HOPS):
        target = session.scalar(select(RecordAlias.canonical_id).where(RecordAlias.alias_id == record_id))
        if target is None or target == record_id:
            break
        record_id = target
    return record_id


def redirect_refs(session: Session, rtype: RecordType, values: dict[str, Any]) -> None:
    """References to merged records reach their survivor; references to nothing are refused."""
    errors: list[FieldError] = []
    for name, kind in rtype.refs:
        ref = values.get(name)
        if ref is None or kind not in _REF_MODELS:
            continue
        values[name] = canonical_id(session, ref)
        if session.get(_REF_MODELS[kind], values[name]) is None:
            errors.append(problem(name, "ref.unknown", f"{name} 指向不存在的记录",
                                  f"{name} points to a record that does not exist"))
    if errors:
        raise ResolveError(errors)


def check_record(session: Session, kind: str, record_id: uuid.UUID, state: dict[str, Any]) -> None:
    """Refuse what a unique index would refuse; end an older open residency (a move).

    `state` is the record as it will be (its columns with the decision applied). Called
    before the record itself is written, so that the older residency is ended first and the
    one-open-residency index never sees two.
    """
    if state.get("deleted_at") is not None:
        return
    with session.no_autoflush:
        if kind == "person":
            _person(session, record_id, state)
        elif kind == "residency":
            _residency(session, record_id, state)
        elif kind == "house_code":
            _house_code(session, record_id, state)
        elif kind == "house_flag":
            _house_flag(session, record_id, state)


def _person(session: Session, record_id: uuid.UUID, state: dict[str, Any]) -> None:
    number = state.get("id_number")
    if number and session.scalar(select(Person.id).where(
            Person.id_number == number, Person.id != record_id, Person.deleted_at.is_(None),
            Person.claims_id_of.is_(None))):
        raise ResolveError([problem("id_number", "id.taken", "另一人已使用此证件号码（如为同一人，请合并）",
                                    "another person already has this ID number (merge them if it is one person)")])


def _residency(session: Session, record_id: uuid.UUID, state: dict[str, Any]) -> None:
    room = session.get(Room, state["room_id"]) if state.get("room_id") else None
    if room is not None and room.house_id != state.get("house_id"):
        raise ResolveError([ROOM_ELSEWHERE])
    if state.get("end_date") is not None:
        return
    start = state["start_date"]
    others = session.scalars(select(Residency).where(
        Residency.person_id == state["person_id"], Residency.id != record_id,
        Residency.end_date.is_(None), Residency.deleted_at.is_(None))).all()
    for other in others:
        if other.start_date >= start:
            raise ResolveError([problem(
                "end_date", "residency.overlap",
                f"此人自 {other.start_date} 起另有居住记录：请填写本条的迁出日期",
                f"this person lives elsewhere since {other.start_date}: give this residency an end date")])
        # Moving house is normal: the older one ends the day before the newer one starts.
        other.end_date = max(other.start_date, start - timedelta(days=1))
        other.end_reason = "moved"
        old_house = session.get(House, other.house_id)
        if old_house is not None and old_house.cell_id is not None and other.house_id != state["house_id"]:
            session.add(ScopeChange(cell_id=old_house.cell_id, record_type="person",
                                    record_id=state["person_id"], kind="leave"))


def _house_code(session: Session, record_id: uuid.UUID, state: dict[str, Any]) -> None:
    code = state.get("code")
    if code and session.scalar(select(HouseCode.id).where(HouseCode.code == code, HouseCode.id != record_id)):
        raise ResolveError([problem("code", "code.taken", "此编码已被使用", "this code is already in use")])


def _house_flag(session: Session, record_id: uuid.UUID, state: dict[str, Any]) -> None:
    if state.get("cleared_at") is not None:
        return
    if session.scalar(select(HouseFlag.id).where(
            HouseFlag.house_id == state.get("house_id"), HouseFlag.kind == state.get("kind"),
            HouseFlag.id != record_id, HouseFlag.cleared_at.is_(None), HouseFlag.deleted_at.is_(None))):
        raise ResolveError([problem("kind", "flag.duplicate", "该房屋已有同类未解除的标记",
                                    "the house already has an open flag of this kind")])
