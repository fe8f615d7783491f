"""A record's history: every stored version, newest first, who made it, through which door,
and which fields changed from the version before, old → new, as a role may see them.

Values pass through the privacy policy here, before any page or export has them: a masked
field comes out masked on both sides, and a change is listed only when what the role sees of
it changed (its mask; never a hidden field). "Changed" beside two equal masks told a grid lead
whether the number it had just written over was its guess. Plain SQLAlchemy: no Flask.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from webapp.models import Device, RecordVersion, User
from webapp.registry import changelog, privacy

# How a version came about, for the page: the state when the log began, the record's first
# version, a change, its deletion (tombstone), and one whose values the PIPL purge erased.
BASELINE, CREATED, CHANGED, DELETED, ERASED = "baseline", "created", "changed", "deleted", "erased"


@dataclass
class Change:
    field: str
    old: Any  # as the role sees it: the value or its mask
    new: Any


@dataclass
class Version:
    version: int
    changed_at: datetime
    changed_by: User | None
    door: str
    door_ref: str | None
    kind: str
    changes: list[Change] = field(default_factory=list)
    device: Device | None = None  # the phone, for a push or a rescue file


def _seen(role: str, record_type: str, name: str, value: Any) -> tuple[Any, bool]:
    if (record_type, name) not in privacy.POLICY:
        return value, False
    how = privacy.show(role, record_type, name)
    if how is privacy.Show.HIDDEN:
        return None, True
    return privacy.seen(role, record_type, name, value), False


def diff(record_type: str, role: str, before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    """The fields that differ (every non-empty one when there is no version before)."""
    out = []
    for name in sorted(set(after) | set(before or {})):
        old = (before or {}).get(name)
        new = after.get(name)
        if old == new or (before is None and new in (None, "", [], {})):
            continue
        old_seen, hidden = _seen(role, record_type, name, old)
        new_seen, _hidden = _seen(role, record_type, name, new)
        if hidden or old_seen == new_seen:
            # Other hidden digits, or a hidden field: "it changed" would tell a role that
            # wrote a guess over the value whether the guess was the value.
            continue
        out.append(Change(name, old_seen, new_seen))
    return out


def history(session: Session, record_type: str, record_id: uuid.UUID, role: str) -> list[Version]:
    """Every stored version of the record, newest first."""
    rows = list(session.scalars(
        select(RecordVersion).where(RecordVersion.record_type == record_type, RecordVersion.record_id == record_id)
        .order_by(RecordVersion.version, RecordVersion.id)))
    users = _by_id(session, User, {r.changed_by_id for r in rows if r.changed_by_id is not None})
    device_ids = set()
    for r in rows:
        if r.door in ("phone", "rescue") and r.door_ref:
            try:
                device_ids.add(uuid.UUID(r.door_ref))
            except ValueError:
                pass
    devices = _by_id(session, Device, device_ids)
    out: list[Version] = []
    before: dict[str, Any] | None = None
    for r in rows:
        after = changelog.values(record_type, r.snapshot)
        device = devices.get(_uuid(r.door_ref)) if r.door in ("phone", "rescue") else None
        v = Version(r.version, r.changed_at, users.get(r.changed_by_id), r.door, r.door_ref, CHANGED, device=device)
        if after is None:
            v.kind = ERASED
            before = None
        else:
            v.changes = diff(record_type, role, before, after)
            if r.door == "baseline":
                v.kind = BASELINE
            elif before is None and r.version == 1:
                v.kind = CREATED
            elif after.get("deleted_at") is not None and (before or {}).get("deleted_at") is None:
                v.kind = DELETED
            before = after
        if v.changes or v.kind != CHANGED:
            out.append(v)
    return out[::-1]


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def _by_id(session: Session, model: Any, ids: set[Any]) -> dict[Any, Any]:
    if not ids:
        return {}
    records: Select[Any] = select(model).where(model.id.in_(ids))  # one entity, of whichever model
    return {o.id: o for o in session.scalars(records)}


def changed_by(session: Session, record_type: str, record_id: uuid.UUID) -> list[tuple[datetime, int | None, str, str | None]]:
    """(when, user id, door, door ref) of every stored version: who changed the record, for
    the person's access report (no values)."""
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        select(RecordVersion.changed_at, RecordVersion.changed_by_id, RecordVersion.door, RecordVersion.door_ref)
        .where(RecordVersion.record_type == record_type, RecordVersion.record_id == record_id)
        .order_by(RecordVersion.version, RecordVersion.id))]
