"""Reassigning a task to another coordinator of its cell, and moving its due date."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Task, User, cell_coordinator
from webapp.models.enums import Role


class AssignError(ValueError):
    """A reassignment or due date that cannot be made as asked."""


class PastDue(AssignError):
    """A due date moved to before today: the task would be overdue, and escalated, at once
    (1900-01-01 was taken). A date already past may stay as it is."""


def coordinators_of(session: Session, cell_id: uuid.UUID | None) -> list[User]:
    if cell_id is None:
        return []
    return list(session.scalars(
        select(User).join(cell_coordinator, cell_coordinator.c.user_id == User.id)
        .where(cell_coordinator.c.cell_id == cell_id, User.role == Role.COORDINATOR, User.active.is_(True))
        .order_by(User.display_name, User.id)))


def reassign(session: Session, task: Task, assignee_id: int | None, by_user_id: int | None) -> int | None:
    """Give the task to one coordinator of its cell, or (None) to all of them; returns the
    previous assignee. The caller audits and commits."""
    if not task.is_open:
        raise AssignError("a closed task is not reassigned")
    if assignee_id is not None and assignee_id not in {u.id for u in coordinators_of(session, task.cell_id)}:
        raise AssignError("the assignee must be a coordinator of the task's cell")
    before = task.assignee_id
    task.assignee_id = assignee_id
    task.changed_by_id = by_user_id
    return before


def set_due(task: Task, due_on: date, by_user_id: int | None, today: date) -> date | None:
    """Move the due date; a date moved past today clears the escalation (it is no longer overdue)."""
    if not task.is_open:
        raise AssignError("a closed task keeps its due date")
    if due_on < today:
        raise PastDue(f"{due_on} is before today ({today})")
    before = task.due_on
    task.due_on = due_on
    if due_on >= today:
        task.escalated_at = None
    task.changed_by_id = by_user_id
    return before
