"""What needs doing, for the console's home: each user's open tasks, reviews and conflicts,
with how many are due soon and overdue. Counts only, within the user's scope; the lists
themselves are the task, review and conflict queues. Plain SQLAlchemy: no Flask."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from sync.resolve import conflict_clause
from webapp.models import Conflict, House, Review, Task, User, cell_coordinator
from webapp.models.enums import ReviewStatus, Role, TaskStatus
from webapp.registry.review import LATE_AFTER_DAYS
from webapp.registry.scope import Scope

DUE_SOON_DAYS = 2  # due today, tomorrow or the day after
CONFLICT_LATE_DAYS = 7


@dataclass
class Todo:
    kind: str  # tasks | reviews | returned | conflicts
    open: int
    due: int  # due soon (tasks), or nothing
    overdue: int  # past due (tasks), waiting over a week (reviews, conflicts)


def todo(session: Session, user: User, scope: Scope, today: date, now: datetime) -> list[Todo]:
    out: list[Todo] = []
    if scope.may("edit"):
        out.append(_tasks(session, user, scope, today))
    if scope.may("review"):
        out.append(_reviews(session, scope, now, pending=True))
    if user.role == Role.COORDINATOR:
        out.append(_returned(session, user, now))
    if scope.may("resolve") or user.role == Role.COORDINATOR:
        out.append(_conflicts(session, user, scope, now))
    return out


def _tasks(session: Session, user: User, scope: Scope, today: date) -> Todo:
    where = [Task.status == TaskStatus.OPEN, Task.deleted_at.is_(None), scope.house_clause()]
    if user.role == Role.COORDINATOR:
        # Theirs, and their cells' tasks for nobody in particular.
        mine = select(cell_coordinator.c.cell_id).where(cell_coordinator.c.user_id == user.id)
        where.append(or_(Task.assignee_id == user.id, and_(Task.assignee_id.is_(None), House.cell_id.in_(mine))))
    soon = today + timedelta(days=DUE_SOON_DAYS)
    row = session.execute(
        select(func.count(), func.sum(case((and_(Task.due_on >= today, Task.due_on <= soon), 1), else_=0)),
               func.sum(case((Task.due_on < today, 1), else_=0)))
        .select_from(Task).join(House, House.id == Task.house_id).where(*where)).one()
    return Todo("tasks", int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


def _reviews(session: Session, scope: Scope, now: datetime, *, pending: bool) -> Todo:
    late = now - timedelta(days=LATE_AFTER_DAYS)
    row = session.execute(
        select(func.count(), func.sum(case((Review.created_at < late, 1), else_=0)))
        .select_from(Review).join(House, House.id == Review.house_id)
        .where(Review.deleted_at.is_(None), Review.status == ReviewStatus.PENDING, scope.house_clause())).one()
    return Todo("reviews", int(row[0] or 0), 0, int(row[1] or 0))


def _returned(session: Session, user: User, now: datetime) -> Todo:
    late = now - timedelta(days=LATE_AFTER_DAYS)
    row = session.execute(
        select(func.count(), func.sum(case((Review.decided_at < late, 1), else_=0)))
        .where(Review.deleted_at.is_(None), Review.status == ReviewStatus.RETURNED,
               Review.submitted_by_id == user.id)).one()
    return Todo("returned", int(row[0] or 0), 0, int(row[1] or 0))


def _conflicts(session: Session, user: User, scope: Scope, now: datetime) -> Todo:
    late = now - timedelta(days=CONFLICT_LATE_DAYS)
    where: list[ColumnElement[bool]] = [Conflict.resolved_at.is_(None)]
    # Resolvers: their cells' conflicts; a coordinator: those their own phones raised.
    where.append(conflict_clause(scope) if scope.may("resolve") else Conflict.user_id == user.id)
    row = session.execute(select(func.count(), func.sum(case((Conflict.created_at < late, 1), else_=0)))
                          .where(*where)).one()
    return Todo("conflicts", int(row[0] or 0), 0, int(row[1] or 0))
