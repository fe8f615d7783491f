"""Escalation: an open task past its due date is marked once, for the grid lead and above."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Task
from webapp.models.enums import TaskStatus
from webapp.base.timeutil import utcnow


def escalate(session: Session, today: date, now: datetime | None = None) -> list[Task]:
    """Mark open tasks due before `today` and not yet escalated; flush, no commit. Returns
    them so that the caller can audit each (a task escalates once, however often this runs)."""
    now = now or utcnow()
    tasks = list(session.scalars(select(Task).where(
        Task.status == TaskStatus.OPEN, Task.deleted_at.is_(None), Task.due_on < today, Task.escalated_at.is_(None),
    ).order_by(Task.due_on, Task.id)))
    for task in tasks:
        task.escalated_at = now
    session.flush()
    return tasks
