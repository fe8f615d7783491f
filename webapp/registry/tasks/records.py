"""Tasks (待办, the `Task` model): making, finding and closing them for the house's cell.

Residents' plate declarations (大众发现), leads' and community reporters' reports and the
system's own tasks all go through here; `webapp.oversight.tasks` adds the generators,
escalation and reassignment.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import uuid
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from webapp.models import House, Task, Visit
from webapp.models.enums import TaskResult, TaskKind, TaskSource, TaskStatus
from webapp.models.task import TASK_TEXT_MAX
from webapp.registry.scope import Scope
from webapp.registry.tasks.defaults import set_defaults
from webapp.registry.tasks.settings import TaskSettings, default_settings
from webapp.base.timeutil import local_today, utcnow


def move_out_text(name: str | None) -> str:
    """The text of the task a move elsewhere leaves at the old house (sync/moves.py): in the
    words the task list shows, who moved (the old cell's phones no longer hold them), not
    where to. The purge rewrites it without the name (webapp/registry/retention.py)."""
    return f"{name or '一位住户'}已在别处登记入住，请上门确认是否已从本户迁出"


class TaskError(ValueError):
    """A task that cannot be made or closed as asked (the forms catch this before it happens)."""


def client_key(address: str | None, secret: str) -> str:
    """A keyed hash of the sender's address, for rate limits and spotting floods.

    Keyed, because all IPv4 addresses can be hashed in minutes: a plain hash would be the
    address. IPv6 counts by its /64, the prefix one subscriber gets, or a single phone
    could step through addresses and never meet the limit.
    """
    try:
        ip = ipaddress.ip_address((address or "").strip())
        text = str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)
    except ValueError:
        text = "unknown"
    # The key's label keeps the model's first name (tip): a new label would make every stored
    # hash (tasks' senders, login throttles) stop matching the same address.
    return hmac.new(secret.encode(), b"tip-ip\x00" + text.encode(), hashlib.sha256).hexdigest()[:32]


def clean_text(value: str | None) -> str:
    """Line breaks made uniform (browsers send CRLF; the 500 limit counts characters)."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def create_task(
    session: Session, house: House, kind: str, text: str = "", contact_phone: str | None = None,
    source: str = TaskSource.PUBLIC, client_ip_hash: str | None = None, reporter_id: int | None = None,
    settings: TaskSettings | None = None, today: date | None = None,
) -> Task:
    """Queue a task for the house's current cell, due by its source's days and given to the
    cell's coordinator if it has one; flush, no commit. `text` is kept verbatim."""
    if kind not in {k.value for k in TaskKind} or source not in {s.value for s in TaskSource}:
        raise TaskError(f"unknown task kind or source: {kind!r}, {source!r}")
    text = clean_text(text)
    if len(text) > TASK_TEXT_MAX:
        raise TaskError(f"task text longer than {TASK_TEXT_MAX} characters")
    task = Task(house_id=house.id, cell_id=house.cell_id, kind=kind, text=text,
              contact_phone=contact_phone or None, status=TaskStatus.OPEN, source=source,
              client_ip_hash=client_ip_hash, reporter_id=reporter_id)
    set_defaults(session, task, settings or default_settings(), today or local_today())
    session.add(task)
    session.flush()
    return task


# The assignee filter: anyone's, unassigned (the cell's coordinators together), or one user's.
ANY, UNASSIGNED = None, "none"


def visible_tasks(scope: Scope, status: str | None = TaskStatus.OPEN, *, assignee: int | str | None = ANY,
                 overdue_on: date | None = None, escalated: bool = False) -> Select[Task]:
    """Tasks about houses the scope sees (by the house's cell now: tasks follow a moved house).

    `overdue_on`: only open tasks due before that day; `escalated`: only escalated ones."""
    query = (
        select(Task).join(House, House.id == Task.house_id)
        .where(scope.house_clause(), Task.deleted_at.is_(None))
        .options(selectinload(Task.house), selectinload(Task.closed_visit))
        .order_by(Task.created_at.desc(), Task.id)
    )
    if status is not None:
        query = query.where(Task.status == status)
    if assignee == UNASSIGNED:
        query = query.where(Task.assignee_id.is_(None))
    elif isinstance(assignee, int):
        query = query.where(Task.assignee_id == assignee)
    if overdue_on is not None:
        query = query.where(Task.status == TaskStatus.OPEN, Task.due_on < overdue_on)
    if escalated:
        query = query.where(Task.escalated_at.is_not(None))
    return query


def find_visible(session: Session, scope: Scope, task_id: uuid.UUID) -> Task | None:
    return session.scalar(visible_tasks(scope, status=None).where(Task.id == task_id))


def result_problem(status: str | None, result: str | None) -> str | None:
    """Why this result cannot close a task as `status` (None: it can). A change was made
    only by a task done: a rejected report changed nothing."""
    if result is None:
        return None
    if result not in {r.value for r in TaskResult}:
        return f"unknown result {result!r}"
    if result == TaskResult.CHANGED and status != TaskStatus.DONE:
        return "only a task closed as done can have changed the registry"
    return None


def visit_problem(task_house_id: uuid.UUID, visit_house_id: uuid.UUID | None) -> str | None:
    """Why this visit cannot be the one that closed the task (None: it can)."""
    if visit_house_id is None:
        return "the visit does not exist"
    if visit_house_id != task_house_id:
        return "the visit was at another house"
    return None


def close_task(task: Task, status: str, outcome: str, by_user_id: int | None,
              now: datetime | None = None, *, result: str | None = None, visit: Visit | None = None) -> None:
    """Mark a task done or rejected, with what was found (in words, and as a `TaskResult`) and
    the visit that found it; the caller commits."""
    if status not in (TaskStatus.DONE, TaskStatus.REJECTED):
        raise TaskError(f"a task closes as done or rejected, not {status!r}")
    if not task.is_open:
        raise TaskError("task already closed")
    outcome = clean_text(outcome)
    if not outcome or len(outcome) > TASK_TEXT_MAX:
        raise TaskError(f"outcome must have 1 to {TASK_TEXT_MAX} characters")
    problem = result_problem(status, result) or (
        visit_problem(task.house_id, visit.house_id) if visit is not None else None)
    if problem:
        raise TaskError(problem)
    task.status = status
    task.outcome = outcome
    task.result = result
    task.closed_visit_id = visit.id if visit is not None else None
    task.closed_at = now or utcnow()
    task.closed_by_id = by_user_id
    task.changed_by_id = by_user_id
