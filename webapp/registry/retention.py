"""Purging tombstones: after the retention period only id and version remain (PIPL art. 47).

The row itself stays, so a phone that was offline for months still learns of the deletion.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from webapp.models import (Conflict, House, Person, RecordAlias, RecordVersion, Residency, Review, SyncMutation, Task,
                           Unit, Visit)
from webapp.models.base import Synced
from webapp.base.timeutil import utcnow
from webapp.registry.tasks.records import move_out_text

# Per table, the columns that may identify a person, and what they become. Keyed by synced
# models as `Any`: no one type has both the `Synced` columns and the `__tablename__` that
# comes with `Base` (as in `Synced.__mapper_args__`).
PERSONAL_COLUMNS: dict[type[Any], dict[str, Any]] = {
    Person: {
        "name": None, "id_number": None, "id_rev": None, "phone": None, "phone_rev": None,
        "birth_date": None, "sex": None, "hukou_region": None, "hukou_road": None,
        "hukou_number": None, "hukou_building": None, "hukou_room": None, "hukou_address": None,
        "permit_number": None, "permit_expiry": None, "employer_unit_id": None, "note": None,
        "landline": None, "phone_status": None, "hukou_key": None, "hukou_room_key": None,
        "permit_issued": None, "permit_endorsed_on": None, "permit_endorsed_by_id": None,
    },
    Residency: {"end_reason": None},
    Visit: {"lat": None, "lon": None, "accuracy_m": None, "note": None},
    Unit: {"contacts": []},
    House: {"note": None},
    Task: {"text": "", "contact_phone": None, "outcome": None, "client_ip_hash": None},
}

VERSIONED: dict[str, type[Synced]] = {"person": Person, "house": House, "unit": Unit}


def purge(session: Session, before: datetime) -> dict[str, int]:
    """Erase personal columns of tombstones deleted before `before`; return counts per table."""
    now = utcnow()
    counts: dict[str, int] = {"task_text": _unname_move_out_tasks(session, before, now)}
    for model, values in PERSONAL_COLUMNS.items():
        stmt = (
            update(model)
            .where(model.deleted_at.is_not(None), model.deleted_at < before, model.purged_at.is_(None))
            # The purge is nobody's edit: its version in the change log names no user.
            .values(**values, purged_at=now, version=model.version + 1, changed_at=now, changed_by_id=None)
            .execution_options(synchronize_session=False)
        )
        counts[model.__tablename__] = session.execute(stmt).rowcount  # type: ignore[attr-defined]
    # A review keeps a copy of its person's name (for the phones): erased with the person's.
    purged = select(Person.id).where(Person.purged_at.is_not(None))
    counts["review"] = session.execute(  # type: ignore[attr-defined]
        update(Review).where(Review.person_name.is_not(None), Review.person_id.in_(purged))
        .values(person_name=None, version=Review.version + 1, changed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    counts["conflict"] = _purge_conflicts(session, purged, now)
    counts["receipt"] = _purge_receipts(session, purged)
    # A resident leaves a phone on a report to be called back: once the task is long closed,
    # the number has served its purpose.
    counts["task_contact"] = session.execute(  # type: ignore[attr-defined]
        update(Task).where(Task.closed_at.is_not(None), Task.closed_at < before,
                          or_(Task.contact_phone.is_not(None), Task.client_ip_hash.is_not(None)))
        .values(contact_phone=None, client_ip_hash=None, version=Task.version + 1, changed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    # The change log's past values of every purged person, house and unit (its versions keep
    # who, when and which door; the purge's own version, written at commit, holds no value
    # of a personal column).
    counts["record_version"] = 0
    for record_type, model in VERSIONED.items():
        counts["record_version"] += session.execute(  # type: ignore[attr-defined]
            update(RecordVersion).where(RecordVersion.record_type == record_type, RecordVersion.snapshot.is_not(None),
                                        RecordVersion.record_id.in_(select(model.id).where(model.purged_at.is_not(None))))
            .values(snapshot=None, erased_at=now).execution_options(synchronize_session=False)).rowcount
    return counts


def _purge_conflicts(session: Session, purged: Any, now: datetime) -> int:
    """Conflicts copy what a phone sent and what the registry held (ID numbers, phones...):
    those copies go with the person's own, under the person's id or any alias of it."""
    aliases = select(RecordAlias.alias_id).where(RecordAlias.canonical_id.in_(purged))
    personal = set(PERSONAL_COLUMNS[Person])
    rows = session.scalars(select(Conflict).where(
        Conflict.purged_at.is_(None), Conflict.record_type == "person",
        or_(Conflict.record_id.in_(purged), Conflict.record_id.in_(aliases)))).all()
    for conflict in rows:
        for name in ("base_values", "registry_values", "device_values"):
            setattr(conflict, name, {k: v for k, v in (getattr(conflict, name) or {}).items() if k not in personal})
        # A database's own words for a clash may quote the number ("Key (id_number)=(...)").
        conflict.detail = {k: v for k, v in (conflict.detail or {}).items() if k != "error"}
        if conflict.resolution and conflict.resolution.get("fields"):
            fields = conflict.resolution["fields"]  # the decision stays, a typed value goes
            conflict.resolution = {**conflict.resolution, "fields": {
                n: ({"choice": d.get("choice")} if n in personal else d) for n, d in fields.items()}}
        conflict.purged_at = now
    return len(rows)


def _unname_move_out_tasks(session: Session, before: datetime, now: datetime) -> int:
    """A move elsewhere leaves a task at the old house naming who moved (sync/moves.py): for
    each person about to be purged, that exact text at their houses loses the name. Run
    before the person's columns are erased, while the name is still there to match."""
    due = session.execute(select(Person.id, Person.name).where(
        Person.deleted_at.is_not(None), Person.deleted_at < before, Person.purged_at.is_(None),
        Person.name.is_not(None))).all()
    count = 0
    for person_id, name in due:
        houses = select(Residency.house_id).where(Residency.person_id == person_id)
        count += session.execute(  # type: ignore[attr-defined]
            update(Task).where(Task.kind == "moved_out", Task.house_id.in_(houses), Task.text == move_out_text(name))
            .values(text=move_out_text(None), version=Task.version + 1, changed_at=now)
            .execution_options(synchronize_session=False)).rowcount
    return count


def _purge_receipts(session: Session, purged: Any) -> int:
    """A push's receipt keeps what the server set beside the phone's values (`set`: a birth
    date and sex from the ID number, a normalised phone), to answer a resend: for a purged
    person those values go; the outcome, version and errors stay."""
    aliases = select(RecordAlias.alias_id).where(RecordAlias.canonical_id.in_(purged))
    personal = set(PERSONAL_COLUMNS[Person])
    rows = session.scalars(select(SyncMutation).where(
        SyncMutation.record_type == "person",
        or_(SyncMutation.record_id.in_(purged), SyncMutation.record_id.in_(aliases)))).all()
    count = 0
    for receipt in rows:
        told = (receipt.detail or {}).get("set") or {}
        if personal & set(told):
            receipt.detail = {**receipt.detail, "set": {k: v for k, v in told.items() if k not in personal}}
            count += 1
    return count
