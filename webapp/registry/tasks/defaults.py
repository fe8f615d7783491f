"""A task's defaults: its due date by source, and the cell's coordinator when there is one.

New tasks get them from `registry.tasks.create_task`; tasks written elsewhere (the rules'
tasks, move-outs from sync, which insert rows directly) get them from `fill_defaults`,
which `flask tasks generate` and `flask tasks escalate` run first.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from webapp.models import Task, cell_coordinator
from webapp.models.enums import TaskStatus
from webapp.registry.tasks.settings import TaskSettings
from webapp.base.timeutil import to_local


def sole_coordinators(session: Session, cell_ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The coordinator of each of these cells that has exactly one."""
    if not cell_ids:
        return {}
    users: dict[uuid.UUID, list[int]] = defaultdict(list)
    # Annotated: the association table's columns are untyped.
    pairs: Select[uuid.UUID, int] = (select(cell_coordinator.c.cell_id, cell_coordinator.c.user_id)
                                     .where(cell_coordinator.c.cell_id.in_(cell_ids)))
    for cell_id, user_id in session.execute(pairs):
        users[cell_id].append(user_id)
    return {cell: ids[0] for cell, ids in users.items() if len(ids) == 1}


def set_defaults(session: Session, task: Task, settings: TaskSettings, today: date) -> None:
    """Due date and assignee of a task being made, where not given."""
    if task.due_on is None:
        task.due_on = today + timedelta(days=settings.days_for(task.source))
    if task.assignee_id is None and task.cell_id is not None:
        task.assignee_id = sole_coordinators(session, {task.cell_id}).get(task.cell_id)


def fill_defaults(session: Session, settings: TaskSettings) -> int:
    """Defaults for open tasks that never had them (no due date); flush, no commit.

    A due date counts from the day the task was made, so a move-out task queued a week ago
    is due as if it had had its date all along. Returns how many tasks were filled."""
    tasks = list(session.scalars(select(Task).where(
        Task.status == TaskStatus.OPEN, Task.due_on.is_(None), Task.deleted_at.is_(None))))
    sole = sole_coordinators(session, {t.cell_id for t in tasks if t.cell_id is not None})
    for task in tasks:
        task.due_on = to_local(task.created_at).date() + timedelta(days=settings.days_for(task.source))
        if task.assignee_id is None and task.cell_id is not None:
            task.assignee_id = sole.get(task.cell_id)
    session.flush()
    return len(tasks)
