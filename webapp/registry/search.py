"""以房找人、以人找房: one search box that finds people and houses the way coordinators ask.

Coordinators type a name (2–3 characters, often only the surname and one more), the last
digits of an ID or phone number, a house code from a plate, or part of an address.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from webapp.models import House, HouseCode, Person, Residency
from webapp.registry import address, privacy
from webapp.registry.scope import Scope

# Masked ID numbers and phones show their last 4 characters (webapp/validation mask_id, mask_phone).
MASK_TAIL = 4
DIGITS = re.compile(r"^\d{3,17}[0-9X]$")  # 4–18 characters; only the last may be X
CODE_LIKE = re.compile(r"^[0-9A-Za-z-]{6,40}$")
# Houses whose parts hold every word of an address query, read to test against the rule: a
# query as loose as one road of the district stops there (the first ones in address order).
ADDRESS_CANDIDATES = 2000
# What is typed is read to this length: no search needs more, and it bounds the console's
# sealed search address (webapp/base/sealed_query.py) however much is pasted into the box.
QUERY_MAX = 64


@dataclass
class SearchResult:
    query: str
    persons: list[Person] = field(default_factory=list)
    houses: list[House] = field(default_factory=list)
    # How the query was read, shown to the user so an empty result is understandable.
    read_as: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.persons and not self.houses


def _persons(session: Session, scope: Scope, clause: object, limit: int) -> list[Person]:
    query = (
        select(Person)
        .where(clause, Person.deleted_at.is_(None), scope.person_clause())  # type: ignore[arg-type]
        .options(selectinload(Person.residencies).selectinload(Residency.house))
        .order_by(Person.name, Person.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _houses(session: Session, scope: Scope, clause: object, limit: int) -> list[House]:
    query = (
        select(House)
        .where(clause, House.deleted_at.is_(None), scope.house_clause())  # type: ignore[arg-type]
        .options(selectinload(House.codes))
        .order_by(House.road, House.number, House.building, House.unit, House.room)
        .limit(limit)
    )
    return list(session.scalars(query))


def query_of(raw: str) -> str:
    """What a search reads of what was typed: spaces collapsed, at most QUERY_MAX characters."""
    return " ".join(raw.split())[:QUERY_MAX]


def search(session: Session, scope: Scope, raw: str, limit: int = 50) -> SearchResult:
    q = query_of(raw)
    result = SearchResult(q)
    if not q:
        return result
    compact = q.replace(" ", "").replace("-", "").upper()

    if DIGITS.match(compact):
        if len(compact) >= 15:
            result.read_as.append("id_number")
            result.persons = _persons(session, scope, whole_id_number(scope.role, compact), limit)
        else:
            # The last digits of an ID or phone number: a prefix of the reversed copies. Past
            # the digits a role's mask shows, a match would tell the hidden ones one by one.
            tail = compact[::-1]
            columns = [rev for field, rev in (("id_number", Person.id_rev), ("phone", Person.phone_rev))
                       if len(tail) <= MASK_TAIL or privacy.clear(scope.role, "person", field)]
            result.read_as.append("id_or_phone_tail" if columns else "tail_too_long")
            if columns:
                result.persons = _persons(
                    session, scope, or_(*(rev.startswith(tail, autoescape=True) for rev in columns)), limit)

    if CODE_LIKE.match(compact):
        result.read_as.append("house_code")
        by_code = select(HouseCode.house_id).where(HouseCode.code == compact)
        result.houses = _houses(session, scope, House.id.in_(by_code), limit)

    if not result.persons and not result.houses and not DIGITS.match(compact):
        result.read_as.append("name_or_address")
        result.persons = _persons(session, scope, Person.name.startswith(q, autoescape=True), limit)
        result.houses = houses_by_address(session, scope.house_clause(), q, limit)
    return result


def whole_id_number(role: str, number: str) -> Any:
    """The persons a whole ID number typed by this role finds: its holder for a role that sees
    numbers in clear; for any other, every number with the same mask (first 3 and last 4
    characters, same length). An exact match would confirm a guess at the hidden digits, one
    search, or one combine form, per guess."""
    if privacy.clear(role, "person", "id_number"):
        return Person.id_number == number
    return and_(Person.id_number.startswith(number[:3], autoescape=True),
                Person.id_rev.startswith(number[::-1][:MASK_TAIL], autoescape=True),
                func.length(Person.id_number) == len(number))


def houses_by_address(session: Session, where: object, q: str, limit: int) -> list[House]:
    """Houses (among `where`) whose address matches the query by the shared rule
    (webapp/registry/address.py: "谷阳北路21弄1号楼1001室", "1001室", "谷阳北路 88 3 301"), in
    natural order (101室 before 1001室)."""
    words = address.tokens(q)
    prefilter = address_prefilter(words)
    if prefilter is None:
        return []
    candidates = session.scalars(
        select(House).where(prefilter, where, House.deleted_at.is_(None))  # type: ignore[arg-type]
        .options(selectinload(House.codes))
        .order_by(House.road, House.number, House.building, House.unit, House.room, House.id)
        .limit(ADDRESS_CANDIDATES))
    found = [h for h in candidates if address.matches(words, address.tokens(h.address))]
    return sorted(found, key=lambda h: address.natural_key(h.address))[:limit]


_PARTS = (House.road, House.number, House.building, House.unit, House.room)


def address_prefilter(words: list[address.Token]) -> object | None:
    """What the database can test first: every word of the query is inside some part of the
    house (a necessary condition: the rule decides). None for a query with no words."""
    if not words:
        return None
    return and_(*(or_(*(part.contains(w[1], autoescape=True) for part in _PARTS)) for w in words))
