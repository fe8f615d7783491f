"""The centre's daily lists (new arrivals this week, departures, flags by type, permits,
omissions, duplicates, 人户分离) and the names and addresses to show beside any finding.

Every list is a list of `Flag`s, so one table and one export fit them all. Pure
SQLAlchemy: the web layer decides who sees full ID numbers; the scope decides whose number
is shown at all (`describe`).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from webapp.models import Cell, Committee, House, Person, Residency, Unit
from webapp.models.enums import Relation
from webapp.registry.rules import Flag, RuleSettings, evaluate
from webapp.registry.rules.base import live_person
from webapp.registry.scope import Scope

Lister = Callable[["Ask"], list[Flag]]
_CHUNK = 900  # ids per IN (…): well under every backend's limit on bound parameters


@dataclass(frozen=True)
class Ask:
    """What a list is asked for: the session, the day, the settings and the cells."""

    session: Session
    today: date
    week_start: date
    settings: RuleSettings
    cell_ids: frozenset[uuid.UUID] | None
    kind: str | None = None  # a rule's finding kind to keep (the "flags" list)
    rule: str | None = None  # the rule of the "flags" list


def _moves(ask: Ask, arrivals: bool) -> list[Flag]:
    day = Residency.start_date if arrivals else Residency.end_date
    where = [Residency.deleted_at.is_(None), live_person(), House.deleted_at.is_(None),
             day >= ask.week_start, day <= ask.today]
    if ask.cell_ids is not None:
        where.append(House.cell_id.in_(list(ask.cell_ids)))
    out = []
    # The day is never NULL here (it lies in the week), which a departure's column cannot say.
    moves = cast("Select[uuid.UUID, uuid.UUID, uuid.UUID | None, date, str, str | None]",
                 select(Person.id, House.id, House.cell_id, day, Residency.relation, Residency.end_reason)
                 .join(Residency, Residency.person_id == Person.id).join(House, House.id == Residency.house_id)
                 .where(*where).order_by(day.desc(), House.road, House.number))
    for pid, house_id, cell_id, on, relation, reason in ask.session.execute(moves):
        zh_rel, en_rel = Relation.labels().get(relation, (relation, relation))
        if arrivals:
            zh, en = f"{on} 入住（{zh_rel}）", f"Moved in on {on} ({en_rel.lower()})"
        else:
            zh = f"{on} 迁出{('：' + reason) if reason else ''}"
            en = f"Moved out on {on}{(': ' + reason) if reason else ''}"
        out.append(Flag("arrivals" if arrivals else "departures", str(relation), "person", pid, cell_id, house_id,
                        zh, en, {"date": on.isoformat()}, error=False))
    return out


def _rule(code: str, kinds: tuple[str, ...] | None = None) -> Lister:
    def lister(ask: Ask) -> list[Flag]:
        flags = evaluate(ask.session, today=ask.today, settings=ask.settings, cell_ids=ask.cell_ids, codes=(code,))
        return [f for f in flags if kinds is None or f.kind in kinds]

    return lister


def _flags(ask: Ask) -> list[Flag]:
    codes = (ask.rule,) if ask.rule else None
    flags = evaluate(ask.session, today=ask.today, settings=ask.settings, cell_ids=ask.cell_ids, codes=codes)
    return [f for f in flags if ask.kind is None or f.kind == ask.kind]


# name → (zh, en, lister)
LISTS: dict[str, tuple[str, str, Lister]] = {
    "arrivals": ("本周新入住", "New arrivals this week", lambda ask: _moves(ask, True)),
    "departures": ("本周迁出", "Departures this week", lambda ask: _moves(ask, False)),
    "flags": ("规则提示", "Flags by type", _flags),
    "permits": ("居住证到期与签注", "Permits expiring and endorsements due", _rule("permits")),
    "omissions": ("疑似漏登", "Possible omissions", _rule("omission")),
    "duplicates": ("重复登记", "Duplicates", _rule("duplicates")),
    "separated": ("人户分离", "Living away from the hukou address", _rule("hukou_separation", ("separated",))),
}


def run_list(name: str, ask: Ask) -> list[Flag]:
    return LISTS[name][2](ask)


@dataclass(frozen=True)
class Described:
    """What a table shows beside a finding. The ID number is whole: the caller masks it."""

    name: str = ""
    id_number: str | None = None
    category: str | None = None
    address: str = ""
    cell: str = ""
    committee: str = ""
    # A person the viewer may open (scope.person_clause); one who is not is a name only.
    opens: bool = True


def _chunks(ids: Iterable[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    ids = list(dict.fromkeys(ids))
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def describe(session: Session, flags: Iterable[Flag], scope: Scope) -> dict[tuple[str, uuid.UUID], Described]:
    """Names, ID numbers, addresses, cells and committees of the flagged records, as `scope`
    may see them. A list is asked for by the cells of the house a finding is about, but a
    person found there may live elsewhere now (a departure, a possible omission: no home at
    all): then the viewer is shown the name and no number, as the old house's history shows
    former residents; whoever's cells they live in now holds the record."""
    flags = list(flags)
    houses: dict[uuid.UUID, tuple[str, str, str]] = {}
    for chunk in _chunks(f.house_id for f in flags if f.house_id):
        for house, cell_code, cell_name, committee in session.execute(
                select(House, Cell.code, Cell.name, Committee.name).outerjoin(Cell, Cell.id == House.cell_id)
                .outerjoin(Committee, Committee.id == Cell.committee_id).where(House.id.in_(chunk))):
            houses[house.id] = (house.address, f"{cell_code} {cell_name}" if cell_code else "", committee or "")
    persons: dict[uuid.UUID, tuple[str, str | None, str]] = {}
    visible: set[uuid.UUID] = set()
    for chunk in _chunks(f.record_id for f in flags if f.record_type == "person"):
        for pid, name, number, person_category in session.execute(
                select(Person.id, Person.name, Person.id_number, Person.category).where(Person.id.in_(chunk))):
            persons[pid] = (name or "", number, person_category)
        visible.update(session.scalars(select(Person.id).where(Person.id.in_(chunk), scope.person_clause())))
    units: dict[uuid.UUID, str | None] = {}
    for chunk in _chunks(f.record_id for f in flags if f.record_type == "unit"):
        units.update({uid: name for uid, name in session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(chunk)))})
    out = {}
    for f in flags:
        address, cell, committee = houses.get(f.house_id, ("", "", "")) if f.house_id else ("", "", "")
        if f.record_type == "person":
            name, number, category = persons.get(f.record_id, ("", None, None))
            opens = f.record_id in visible
            out[(f.record_type, f.record_id)] = Described(name, number if opens else None, category, address, cell,
                                                          committee, opens=opens)
        elif f.record_type == "unit":
            out[(f.record_type, f.record_id)] = Described(units.get(f.record_id) or "", None, None, address, cell,
                                                          committee)
        else:
            out[(f.record_type, f.record_id)] = Described(address, None, None, address, cell, committee)
    return out


def committee_cells(session: Session, committee_id: uuid.UUID) -> frozenset[uuid.UUID]:
    return frozenset(session.scalars(select(Cell.id).where(Cell.committee_id == committee_id,
                                                           Cell.deleted_at.is_(None))))


__all__ = ["LISTS", "Ask", "Described", "committee_cells", "describe", "run_list"]
