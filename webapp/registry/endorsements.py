"""Yearly residence-permit endorsements (签注): recording one, and the card's archive of them.

A person keeps the last endorsement's date and who recorded it (`permit_endorsed_on`,
`permit_endorsed_by_id`; the phones write them too, docs/sync.md); every earlier one is a
version in the change log, so the archive is read back from there rather than kept twice.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from webapp.models import Person, RecordVersion, User
from webapp.registry.changes import apply_changes


@dataclass(frozen=True)
class Endorsement:
    on: date
    by: str | None  # the display name of who recorded it
    recorded_at_version: int


def record(person: Person, on: date, by_user_id: int) -> bool:
    """Record an endorsement done on `on`; False when that very one is already recorded."""
    return bool(apply_changes(person, {"permit_endorsed_on": on, "permit_endorsed_by_id": by_user_id}, by_user_id))


def archive(session: Session, person_id: uuid.UUID) -> list[Endorsement]:
    """Every endorsement recorded for the person, newest first, from the change log."""
    # Annotated: with the snapshot's `Any` values, `Session.execute` matches every overload and
    # returns untyped rows.
    rows: Sequence[Row[int, dict[str, Any] | None]] = session.execute(
        select(RecordVersion.version, RecordVersion.snapshot)
        .where(RecordVersion.record_type == "person", RecordVersion.record_id == person_id,
               RecordVersion.erased_at.is_(None))
        .order_by(RecordVersion.version)).all()
    found: list[tuple[date, int | None, int]] = []
    last = None
    for version, snapshot in rows:
        value = (snapshot or {}).get("permit_endorsed_on")
        if value and value != last:
            found.append((date.fromisoformat(str(value)[:10]), (snapshot or {}).get("permit_endorsed_by_id"), version))
        last = value
    names = dict(session.execute(select(User.id, User.display_name)
                                 .where(User.id.in_({by for _, by, _ in found if by is not None}))).all())
    return [Endorsement(on, names.get(by) if by is not None else None, v) for on, by, v in reversed(found)]
