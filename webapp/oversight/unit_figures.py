"""实有单位 figures for /statistics: live units by kind and their employees (persons linked to
a unit as employer, wherever they live), counted today for a running cycle and frozen per
cell when a cycle closes (`webapp.models.unit_figures`), so a closed cycle's figures stay
what they were at its close. Plain SQLAlchemy: no Flask.
"""
from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from webapp.models import Cycle, House, Person, Unit, UnitFigures
from webapp.models.unit_figures import NO_HOUSE_KEY

Counts = dict[str, int]


def _where(cell_ids: frozenset[uuid.UUID] | None) -> list[ColumnElement[bool]]:
    """Live units in live houses of the cells; for the whole subdistrict (None) also units with
    no house, and in houses of no cell."""
    in_house = and_(House.id.is_not(None), House.deleted_at.is_(None))
    where: list[ColumnElement[bool]] = [Unit.deleted_at.is_(None)]
    if cell_ids is None:
        where.append(or_(Unit.house_id.is_(None), in_house))
    else:
        where.append(and_(in_house, House.cell_id.in_(list(cell_ids))) if cell_ids else false())
    return where


def _per_cell(session: Session, cell_ids: frozenset[uuid.UUID] | None) -> dict[str, tuple[Counts, Counts]]:
    """{cell key: (units by kind, employees by kind)} as the register stands."""
    cell = House.cell_id
    out: dict[str, tuple[Counts, Counts]] = {}

    def key(cell_id: Any) -> str:
        return NO_HOUSE_KEY if cell_id is None else str(cell_id)

    units = (select(cell, Unit.kind, func.count()).select_from(Unit).outerjoin(House, House.id == Unit.house_id)
             .where(*_where(cell_ids)).group_by(cell, Unit.kind))
    for cell_id, kind, n in session.execute(units):
        out.setdefault(key(cell_id), ({}, {}))[0][str(kind)] = int(n)
    employed = (select(cell, Unit.kind, func.count(Person.id)).select_from(Unit)
                .outerjoin(House, House.id == Unit.house_id).join(Person, Person.employer_unit_id == Unit.id)
                .where(*_where(cell_ids), Person.deleted_at.is_(None)).group_by(cell, Unit.kind))
    for cell_id, kind, n in session.execute(employed):
        out.setdefault(key(cell_id), ({}, {}))[1][str(kind)] = int(n)
    return out


def _sum(rows: list[tuple[Counts, Counts]]) -> tuple[Counts, Counts]:
    units: Counter[str] = Counter()
    employees: Counter[str] = Counter()
    for u, e in rows:
        units.update(u)
        employees.update(e)
    return dict(units), dict(employees)


def live(session: Session, cell_ids: frozenset[uuid.UUID] | None) -> tuple[Counts, Counts]:
    return _sum(list(_per_cell(session, cell_ids).values()))


def freeze(session: Session, cycle: Cycle) -> int:
    """Write the cycle's unit figures once, per cell (at its close); flush, no commit."""
    if session.scalar(select(UnitFigures.id).where(UnitFigures.cycle_id == cycle.id).limit(1)) is not None:
        return 0
    rows = _per_cell(session, None)
    for key, (units, employees) in rows.items():
        session.add(UnitFigures(cycle_id=cycle.id, cell_key=key, units=units, employees=employees,
                                cell_id=None if key == NO_HOUSE_KEY else uuid.UUID(key)))
    # A closed cycle with no units at all still says "frozen": one empty row for no house.
    if not rows:
        session.add(UnitFigures(cycle_id=cycle.id, cell_key=NO_HOUSE_KEY))
    session.flush()
    return len(rows)


def frozen(session: Session, cycle: Cycle, cell_ids: frozenset[uuid.UUID] | None) -> tuple[Counts, Counts] | None:
    """The figures frozen at the cycle's close for the cells (None: the subdistrict), or None
    when the cycle was not frozen (still running, or closed before figures were frozen)."""
    query = select(UnitFigures).where(UnitFigures.cycle_id == cycle.id)
    snaps = list(session.scalars(query))
    if not snaps:
        return None
    if cell_ids is not None:
        snaps = [s for s in snaps if s.cell_id in cell_ids]
    return _sum([(s.units, s.employees) for s in snaps])
