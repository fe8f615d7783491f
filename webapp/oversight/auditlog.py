"""Reading the audit log back (it is append-only: nothing here writes to it but the caller's
own audit row): filtered by user, record, action and local dates, newest first, paged.

A person's name can stand in a row's detail as well as in its object: a search lists whom it
showed, a house page whom it listed. Those few actions are matched by the person's id in the
detail too, so "who viewed this person" includes them.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from webapp.models import AuditEntry, User
from webapp.base.timeutil import LOCAL_TZ

# Names the log's rows were written with before a rename (issue 20: a task was a "tip"). The
# log is append-only evidence, so its rows keep them; reading, they count as today's name.
FORMER_NAMES: dict[str, str] = {"close_tip": "close_task", "escalate_tip": "escalate_task",
                                "reassign_tip": "reassign_task", "tip_due_date": "task_due_date", "tip": "task"}


def current_name(name: str) -> str:
    """An action or object type as the console names it today."""
    return FORMER_NAMES.get(name, name)


def _with_former(name: str) -> list[str]:
    return [name, *(old for old, new in FORMER_NAMES.items() if new == name)]


# Actions whose detail lists the persons (or houses) they showed or touched.
LISTS_PERSONS = ("search", "view_house", "merge_records")
LISTS_HOUSES = ("community_report", "search")


@dataclass
class AuditFilters:
    user_id: int | None = None
    person_id: uuid.UUID | None = None
    house_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    action: str | None = None
    since: date | None = None  # local days, inclusive
    until: date | None = None

    def any_record(self) -> bool:
        return any((self.person_id, self.house_id, self.unit_id))

    def describe(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v is not None}


def _mentions(kind: str, record_id: uuid.UUID, listing: tuple[str, ...]) -> ColumnElement[bool]:
    text = str(record_id)
    return or_(and_(AuditEntry.object_type == kind, AuditEntry.object_id == text),
               and_(AuditEntry.action.in_(listing), cast(AuditEntry.detail, String).like(f"%{text}%")))


def _local_bound(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def where(filters: AuditFilters) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if filters.user_id is not None:
        out.append(AuditEntry.user_id == filters.user_id)
    if filters.person_id is not None:
        out.append(_mentions("person", filters.person_id, LISTS_PERSONS))
    if filters.house_id is not None:
        out.append(_mentions("house", filters.house_id, LISTS_HOUSES))
    if filters.unit_id is not None:
        out.append(and_(AuditEntry.object_type == "unit", AuditEntry.object_id == str(filters.unit_id)))
    if filters.action:
        out.append(AuditEntry.action.in_(_with_former(filters.action)))
    if filters.since is not None:
        out.append(AuditEntry.at >= _local_bound(filters.since))
    if filters.until is not None:
        out.append(AuditEntry.at < _local_bound(filters.until + timedelta(days=1)))
    return out


def entries(filters: AuditFilters) -> Select[AuditEntry, User]:
    """The rows, each with its user: None for a job's row (the outer join), which
    SQLAlchemy's row type does not express."""
    return (select(AuditEntry, User).outerjoin(User, User.id == AuditEntry.user_id).where(*where(filters))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()))


def page(session: Session, filters: AuditFilters, *, offset: int, limit: int) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*where(filters))) or 0
    rows = list(session.execute(entries(filters).offset(offset).limit(limit)))
    return rows, total


def actions(session: Session) -> list[str]:
    """The actions the log holds, for the filter (the index on (action, at) answers it), by
    today's names."""
    return sorted({current_name(a) for a in session.scalars(select(AuditEntry.action).distinct())})


def detail_text(detail: dict[str, Any] | None, limit: int = 300) -> str:
    """A row's detail as short text for a table or a file."""
    if not detail:
        return ""
    parts = []
    for key, value in detail.items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value[:10]) + (f" … (+{len(value) - 10})" if len(value) > 10 else "")
        parts.append(f"{key}={value}")
    text = "; ".join(parts)
    return text if len(text) <= limit else text[:limit - 1] + "…"
