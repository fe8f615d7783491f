"""The register of units (实有单位) as a list: search by name, credit code or address within
the user's cells, duplicate credit codes marked, each unit's employees. Plain SQLAlchemy.

Employees are persons linked to a unit as their employer (`Person.employer_unit_id`, set on
the phone or in the console). They may live anywhere: a role sees those living in its own
cells (as the privacy policy shows them) and only the number of the others.
"""
from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from webapp.models import Cell, House, Person, Unit
from webapp.registry.address import matches, tokens
from webapp.registry.scope import Scope


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    house: House | None
    cell: Cell | None
    employees: int
    duplicate: bool  # another live unit has the same credit code


def _code(text: str | None) -> str:
    return re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", text or "")).upper()


def _shared_codes(session: Session, codes: set[str]) -> set[str]:
    """The credit codes among these that more than one live unit carries (anywhere: a credit code
    is public business information, and the duplicates rule counts the whole register)."""
    key = func.upper(func.trim(Unit.uscc))
    found: set[str] = set()
    wanted = sorted(codes)
    for i in range(0, len(wanted), 900):
        found |= set(session.scalars(select(key).where(Unit.deleted_at.is_(None), key.in_(wanted[i:i + 900]))
                                     .group_by(key).having(func.count() > 1)))
    return found


def search(session: Session, scope: Scope, query: str = "", *, kind: str | None = None,
           cell_id: uuid.UUID | None = None) -> list[UnitRow]:
    """Live units of the user's cells (all-cells roles: also units at no house) matching the
    query in their name, credit code or address (the address rule of webapp/registry/address.py),
    by name."""
    stmt = (select(Unit, House, Cell).outerjoin(House, House.id == Unit.house_id)
            .outerjoin(Cell, Cell.id == House.cell_id).where(Unit.deleted_at.is_(None)))
    if scope.cell_ids is not None:
        stmt = stmt.where(House.deleted_at.is_(None), scope.house_clause())
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    if cell_id is not None:
        stmt = stmt.where(House.cell_id == cell_id)
    rows = session.execute(stmt.order_by(Unit.name, Unit.id)).all()
    q, code, words = " ".join(query.split()), _code(query), tokens(query)
    if q:
        rows = [r for r in rows if q in (r[0].name or "") or (code and code in _code(r[0].uscc))
                or (r[1] is not None and matches(words, tokens(r[1].address)))]
    ids = [r[0].id for r in rows]
    counts: dict[uuid.UUID, int] = {}
    for i in range(0, len(ids), 900):
        # The employer is set (IN the units' ids), which its column cannot say.
        employed = cast("Select[uuid.UUID, int]",
                        select(Person.employer_unit_id, func.count()).where(
                            Person.employer_unit_id.in_(ids[i:i + 900]), Person.deleted_at.is_(None))
                        .group_by(Person.employer_unit_id))
        counts.update(session.execute(employed).all())
    shared = _shared_codes(session, {_code(r[0].uscc) for r in rows if r[0].uscc})
    return [UnitRow(u, h, c, counts.get(u.id, 0), bool(u.uscc) and _code(u.uscc) in shared) for u, h, c in rows]


@dataclass(frozen=True)
class Employees:
    visible: list[Person]  # those living in the user's cells
    elsewhere: int  # the others: counted, not shown


def employees(session: Session, scope: Scope, unit_id: uuid.UUID) -> Employees:
    linked = and_(Person.employer_unit_id == unit_id, Person.deleted_at.is_(None))
    visible = list(session.scalars(select(Person).where(linked, scope.person_clause()).order_by(Person.name)))
    total = int(session.scalar(select(func.count()).select_from(Person).where(linked)) or 0)
    return Employees(visible, total - len(visible))


def twins(session: Session, unit: Unit) -> list[Unit]:
    """Other live units with this unit's credit code."""
    if not unit.uscc:
        return []
    key = func.upper(func.trim(Unit.uscc))
    return list(session.scalars(select(Unit).where(key == _code(unit.uscc), Unit.id != unit.id,
                                                   Unit.deleted_at.is_(None)).order_by(Unit.name)))
