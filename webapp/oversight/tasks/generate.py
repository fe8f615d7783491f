"""Generated tasks: residence permits to endorse or renew, houses unvisited late in the cycle.

Idempotent: each generated task carries a key (`Task.origin_key`, unique) naming what made
it, and a key already used, open or closed, is not used again. So a daily cron makes each
task once, and a task someone closed does not come back the next morning.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from geo.cycles import current_cycle, utc_bounds
from geo.settings import GeoSettings
from webapp.models import House, Person, Visit
from webapp.models.enums import TaskSource
from webapp.registry.rules import RuleSettings, evaluate
from webapp.oversight.tasks.batch import TaskBatch, used_keys
from webapp.registry.tasks.defaults import fill_defaults, sole_coordinators
from webapp.registry.tasks.settings import TaskSettings

PERMIT_KINDS = ("endorsement", "expiring", "expired")


@dataclass
class Generated:
    permits: int = 0
    unvisited: int = 0
    filled: int = 0  # older tasks given their default due date and assignee


def generate(session: Session, settings: TaskSettings, today: date, *, rules: RuleSettings | None = None,
             geo: GeoSettings | None = None) -> Generated:
    """Every generator, then the defaults of tasks made elsewhere; flush, no commit."""
    out = Generated(permits=permits_due(session, settings, today, rules=rules),
                    unvisited=unvisited_late(session, settings, today, geo=geo))
    out.filled = fill_defaults(session, settings)
    return out


def permits_due(session: Session, settings: TaskSettings, today: date, *, rules: RuleSettings | None = None) -> int:
    """A task per residence permit to endorse, renew or replace, as the permits rule finds them
    (its settings: PERMIT_EXPIRY_WARN_DAYS, PERMIT_ENDORSE_WINDOW_DAYS); due by the permit's
    own date when that comes before the source's usual due date."""
    flags = [f for f in evaluate(session, today=today, settings=rules, codes=("permits",))
             if f.kind in PERMIT_KINDS and f.house_id is not None]
    if not flags:
        return 0
    used = used_keys(session, "permit:")
    names = dict(session.execute(select(Person.id, Person.name).where(
        Person.id.in_({f.record_id for f in flags}))).all())
    batch = TaskBatch(session, sole_coordinators(session, {f.cell_id for f in flags if f.cell_id}))
    usual = today + timedelta(days=settings.days_for(TaskSource.PERMIT))
    for f in flags:
        deadline = date.fromisoformat(f.numbers.get("due") or f.numbers["expiry"])
        key = f"permit:{f.record_id}:{f.kind}:{deadline.isoformat()}"
        if key in used:
            continue
        used.add(key)
        batch.add(house_id=f.house_id, cell_id=f.cell_id, source=TaskSource.PERMIT,  # type: ignore[arg-type]
                  text=f"【居住证】{names.get(f.record_id, '')}：{f.zh}", key=key,
                  due_on=min(usual, deadline) if deadline >= today else usual)
    return batch.write()


def unvisited_late(session: Session, settings: TaskSettings, today: date, *, geo: GeoSettings | None = None,
                   now: bool = False) -> int:
    """In the last TASK_UNVISITED_LATE_DAYS days of the current cycle (any day with `now`: the
    centre runs the cycle from the console), a task for every live house in a cell with no
    visit in the cycle yet, due on the cycle's last day at the latest."""
    cycle = current_cycle(session, today, settings=geo)
    if not now and (cycle.ends_on - today).days >= settings.task_unvisited_late_days:
        return 0
    lo, hi = utc_bounds(cycle)
    visited = exists(select(Visit.id).where(
        Visit.house_id == House.id, Visit.deleted_at.is_(None), Visit.visited_at >= lo, Visit.visited_at < hi))
    houses = session.execute(select(House.id, House.cell_id).where(
        and_(House.deleted_at.is_(None), House.cell_id.is_not(None), ~visited))).all()
    suffix = f":{cycle.name}"
    used = {k for k in used_keys(session, "unvisited:") if k.endswith(suffix)}
    batch = TaskBatch(session, sole_coordinators(session, {cell for _h, cell in houses if cell}))
    due = min(cycle.ends_on, today + timedelta(days=settings.days_for(TaskSource.UNVISITED)))
    for house_id, cell_id in houses:
        key = f"unvisited:{house_id}{suffix}"
        if key in used:
            continue
        batch.add(house_id=house_id, cell_id=cell_id, source=TaskSource.UNVISITED,
                  text=f"【走访】本周期（{cycle.name}）尚未走访，请于 {cycle.ends_on} 前上门", key=key, due_on=due)
    return batch.write()
