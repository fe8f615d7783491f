"""Writing registry records so that every change is an ordinary new version."""
from __future__ import annotations

from typing import Any

from webapp.models.base import Synced
from webapp.base.timeutil import utcnow


def apply_changes(record: Synced, changes: dict[str, Any], by_user_id: int | None) -> dict[str, tuple[Any, Any]]:
    """Set the fields that differ; return {field: (old, new)}. Unchanged input changes nothing.

    The ORM bumps `version` on flush only when a column really changed, so an import of an
    unchanged row leaves the version (and the phones) alone.
    """
    diff: dict[str, tuple[Any, Any]] = {}
    for field, new in changes.items():
        old = getattr(record, field)
        if old != new:
            diff[field] = (old, new)
            setter = getattr(record, f"set_{field}", None)
            if callable(setter):
                setter(new)
            else:
                setattr(record, field, new)
    if diff:
        record.changed_by_id = by_user_id
        record.changed_at = utcnow()
    return diff
