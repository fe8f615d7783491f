"""Community reporters (楼组长, volunteers, property guards): reports for their committee's
houses, what became of them, and who contributed what.

A reporter sees addresses only: the houses they may report on (`scope.report_cells`), and
their own reports' status and result, never the coordinator's notes or who lives there.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from webapp.models import House, Task, User
from webapp.models.enums import Role, TaskResult, TaskSource, TaskStatus
from webapp.registry.code_lookup import Outcome, look_up
from webapp.registry.search import houses_by_address
from webapp.registry.tasks.settings import TaskSettings

# Who a reporter reports as (the task's source): a person may be 楼组长 and volunteer both.
REPORTER_SOURCES = (TaskSource.LEAD, TaskSource.VOLUNTEER, TaskSource.PROPERTY)
FIND_LIMIT = 20


@dataclass(frozen=True)
class HouseChoice:
    id: uuid.UUID
    address: str


def find_houses(session: Session, cells: frozenset[uuid.UUID], raw: str) -> list[HouseChoice]:
    """Houses in these cells by plate code (scanned or typed) or by address words."""
    q = " ".join((raw or "").split())[:64]
    if not q or not cells:
        return []
    found = look_up(session, q)
    if found.outcome == Outcome.LIVE and found.house is not None:
        house = found.house
        return [HouseChoice(house.id, house.address)] if house.cell_id in cells else []
    houses = houses_by_address(session, House.cell_id.in_(cells), q, FIND_LIMIT)
    return [HouseChoice(h.id, h.address) for h in houses]


def reportable_house(session: Session, cells: frozenset[uuid.UUID], house_id: uuid.UUID) -> House | None:
    house = session.get(House, house_id)
    if house is None or house.deleted_at is not None or house.cell_id not in cells:
        return None
    return house


def file_report(session: Session, reporter: User, house: House, kind: str, text: str, source: str,
                settings: TaskSettings | None = None) -> Task:
    """A task for the house's cell, filed by a community reporter; flush, no commit."""
    from webapp.registry.tasks import TaskError, create_task  # tasks imports this package

    if source not in REPORTER_SOURCES:
        raise TaskError(f"a reporter reports as one of {REPORTER_SOURCES}, not {source!r}")
    return create_task(session, house, kind, text, source=source, reporter_id=reporter.id, settings=settings)


@dataclass(frozen=True)
class MyReport:
    """What a reporter may see of a report: no coordinator's notes, no occupant."""

    id: uuid.UUID
    address: str
    kind: str
    source: str
    text: str
    created_at: object
    status: str
    result: str | None
    closed_at: object

    @property
    def led_to_change(self) -> bool:
        return self.status == TaskStatus.DONE and self.result == TaskResult.CHANGED


def my_reports(session: Session, reporter_id: int, limit: int = 100) -> list[MyReport]:
    rows = session.execute(
        select(Task, House).join(House, House.id == Task.house_id)
        .where(Task.reporter_id == reporter_id, Task.deleted_at.is_(None))
        .order_by(Task.created_at.desc(), Task.id).limit(limit))
    return [MyReport(t.id, h.address, t.kind, t.source, t.text, t.created_at, t.status, t.result, t.closed_at)
            for t, h in rows]


@dataclass
class ReporterFigures:
    user_id: int
    name: str
    committee_id: uuid.UUID | None
    filed: int = 0
    open: int = 0
    changed: int = 0  # closed as done with the registry changed: the contribution counted
    by_source: dict[str, int] = field(default_factory=dict)


_CHANGED = (Task.status == TaskStatus.DONE) & (Task.result == TaskResult.CHANGED)


def reporter_figures(session: Session, committee_ids: Iterable[uuid.UUID] | None = None) -> list[ReporterFigures]:
    """Per reporter (of these committees; None: all): reports filed, still open, and those
    that led to a real change, most changes first. Reporters with no report are listed too."""
    users = select(User).where(User.role == Role.REPORTER)
    if committee_ids is not None:
        users = users.where(User.committee_id.in_(list(committee_ids)))
    # Keyed as `Task.reporter_id` is typed (nullable), so that its values look the figures up.
    out: dict[int | None, ReporterFigures] = {
        u.id: ReporterFigures(u.id, u.display_name, u.committee_id)
        for u in session.scalars(users.order_by(User.display_name, User.id))}
    if not out:
        return []
    # Annotated: `func.sum` of a `case` is typed Any, which leaves the rows untyped.
    counts: Select[int | None, str, int, int | None, int | None] = (
        select(Task.reporter_id, Task.source, func.count(),
               func.sum(case((Task.status == TaskStatus.OPEN, 1), else_=0)),
               func.sum(case((_CHANGED, 1), else_=0)))
        .where(Task.reporter_id.in_(list(out)), Task.deleted_at.is_(None))
        .group_by(Task.reporter_id, Task.source))
    for reporter_id, source, filed, still_open, changed in session.execute(counts):
        fig = out[reporter_id]
        fig.filed += filed
        fig.open += int(still_open or 0)
        fig.changed += int(changed or 0)
        fig.by_source[source] = fig.by_source.get(source, 0) + int(changed or 0)
    return sorted(out.values(), key=lambda f: (-f.changed, -f.filed, f.name, f.user_id))


def changes_by_source(session: Session, cell_clause: object) -> dict[str, tuple[int, int]]:
    """(closed, led to a change) per source, for tasks of houses in the clause's cells."""
    rows = session.execute(
        select(Task.source, func.count(), func.sum(case((_CHANGED, 1), else_=0)))
        .join(House, House.id == Task.house_id)
        .where(cell_clause, Task.deleted_at.is_(None), Task.status != TaskStatus.OPEN)  # type: ignore[arg-type]
        .group_by(Task.source))
    return {source: (closed, int(changed or 0)) for source, closed, changed in rows}
