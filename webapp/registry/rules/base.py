"""What a rule is, what it finds, and the SQL pieces the rules share.

A rule is data: a code, a title in Chinese and English, the settings it reads, and one
function that evaluates it over the whole area with a few set-based queries (GROUP BY,
EXISTS), never a query per record. What it finds is a `Flag`, which says why in both
languages with the numbers behind it.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, false, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import Session

from webapp.models import House, Person, Residency
from webapp.registry.rules.settings import RuleSettings


@dataclass(frozen=True, eq=False)
class Flag:
    """One finding about one record."""

    rule: str
    kind: str  # the finding within the rule, e.g. "legacy_id"
    record_type: str  # "house", "person" or "unit"
    record_id: uuid.UUID
    cell_id: uuid.UUID | None  # where it is counted and who sees it
    house_id: uuid.UUID | None
    zh: str
    en: str
    numbers: dict[str, Any] = field(default_factory=dict)
    # A data error counts against the committee's accuracy; a notice (a permit to renew,
    # a landlord's duty) is work to do, not a fault in the records.
    error: bool = True

    def text(self, lang: str = "zh") -> str:
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True)
class Context:
    session: Session
    settings: RuleSettings
    today: date
    # None: every cell and the houses in none; else only these cells (a user's scope).
    cell_ids: frozenset[uuid.UUID] | None = None
    # Only these houses (the house page asks about one).
    house_ids: frozenset[uuid.UUID] | None = None
    # Grading needs only data errors: rules may then skip their notices.
    errors_only: bool = False
    # The caller counts every rule's `resident_terms` itself, in its one pass over the
    # residents (grading): the rules then leave those findings out.
    terms_counted: bool = False

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def where_house(self, house: Any = House) -> list[ColumnElement[bool]]:
        """Live houses in the asked-for cells and houses."""
        out: list[ColumnElement[bool]] = [house.deleted_at.is_(None)]
        if self.cell_ids is not None:
            out.append(house.cell_id.in_(list(self.cell_ids)) if self.cell_ids else false())
        if self.house_ids is not None:
            out.append(house.id.in_(list(self.house_ids)) if self.house_ids else false())
        return out

    def covers(self, cell_id: uuid.UUID | None) -> bool:
        return self.cell_ids is None or (cell_id is not None and cell_id in self.cell_ids)


@dataclass(frozen=True)
class Rule:
    code: str
    zh: str
    en: str
    reads: tuple[str, ...]  # RuleSettings fields
    kinds: dict[str, tuple[str, str]]  # finding kind → (zh, en)
    evaluate: Callable[[Context], list[Flag]]
    # Whether it can find data errors (grading evaluates only those rules).
    finds_errors: bool = True
    # Errors that one resident row (Person, Residency, House) shows by itself, as SQL
    # conditions per finding kind: grading counts them all in a single pass instead of one
    # pass per rule, and the rule lists them from the same conditions.
    resident_terms: Callable[[Context], dict[str, ColumnElement[bool]]] | None = None

    def title(self, lang: str = "zh") -> str:
        return self.zh if lang.startswith("zh") else self.en

    def kind_label(self, kind: str, lang: str = "zh") -> str:
        zh, en = self.kinds.get(kind, (kind, kind))
        return zh if lang.startswith("zh") else en


RULES: dict[str, Rule] = {}


def rule(code: str, zh: str, en: str, *, reads: tuple[str, ...] = (), kinds: dict[str, tuple[str, str]],
         finds_errors: bool = True,
         resident_terms: Callable[[Context], dict[str, ColumnElement[bool]]] | None = None,
         ) -> Callable[[Callable[[Context], list[Flag]]], Callable[[Context], list[Flag]]]:
    """Register an evaluation function as a rule (in the order the modules define them)."""

    def register(fn: Callable[[Context], list[Flag]]) -> Callable[[Context], list[Flag]]:
        if code in RULES:
            raise ValueError(f"rule {code} defined twice")
        RULES[code] = Rule(code, zh, en, reads, kinds, fn, finds_errors, resident_terms)
        return fn

    return register


# --- shared SQL pieces ------------------------------------------------------------------

class _Unindexed(FunctionElement[Any]):
    name = "unindexed"
    inherit_cache = True


@compiles(_Unindexed)
def _as_itself(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_Unindexed, "sqlite")
def _as_coalesce(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"coalesce({column}, {column})"


def unindexed(col: Any) -> ColumnElement[Any]:
    """The column in a form no index answers, on SQLite only. SQLite otherwise walks a
    partial index over the open residencies or live persons and fetches each row at random;
    when most rows qualify, reading the table in order is several times faster. PostgreSQL
    gets the column as it is: there the disguise hid the column's statistics, so it expected
    a few hundred open residencies of 660,000 and probed person and house once per row
    instead of hashing them (人户分离 over the district: 4.6 s)."""
    return _Unindexed(col)


def open_residency(res: Any = Residency, *, scan: bool = False) -> ColumnElement[bool]:
    """Not ended, not deleted; `scan`: read the residencies in table order (see `unindexed`)."""
    return and_((unindexed(res.end_date) if scan else res.end_date).is_(None), res.deleted_at.is_(None))


def live_person(person: Any = Person, *, scan: bool = False) -> ColumnElement[bool]:
    return (unindexed(person.deleted_at) if scan else person.deleted_at).is_(None)


def tombstones() -> Any:
    """Ids of deleted persons: "not in here" tells a live person without joining the table."""
    return select(Person.id).where(Person.deleted_at.is_not(None))


def term_flags(ctx: Context, terms: dict[str, ColumnElement[bool]], *columns: Any) -> Any:
    """Residents showing any of the terms, with one boolean column per term (named by its
    kind) after `columns`: a rule lists the findings it lets grading count."""
    return (residents(ctx, *columns, *(term.label(f"t_{kind}") for kind, term in terms.items()))
            .where(or_(*terms.values())))


def residents(ctx: Context, *columns: Any) -> Any:
    """Live persons with their open residency and its live house (in the asked-for cells),
    read in residency order: one pass over the residencies, one lookup per person and house."""
    return (select(Person.id, Residency.house_id, House.cell_id, *columns).select_from(Residency)
            .join(Person, Person.id == Residency.person_id).join(House, House.id == Residency.house_id)
            .where(open_residency(scan=ctx.cell_ids is None), live_person(scan=True), *ctx.where_house()))


def date_digits(col: Any, dialect: str) -> ColumnElement[str]:
    """A date column as YYYYMMDD text (SQLite keeps dates as ISO text)."""
    if dialect == "postgresql":
        return func.to_char(col, "YYYYMMDD")
    return func.replace(cast(col, String), "-", "")


def matches_digits17x(col: Any, dialect: str) -> ColumnElement[bool]:
    """17 digits and a digit or X: the shape of an 18-character ID number."""
    if dialect == "postgresql":
        return col.op("~", is_comparison=True)("^[0-9]{17}[0-9X]$")
    return col.op("GLOB", is_comparison=True)("[0-9]" * 17 + "[0-9X]")


def matches_alnum(col: Any, dialect: str) -> ColumnElement[bool]:
    """Only upper-case ASCII letters and digits (a passport number as validation stores it)."""
    if dialect == "postgresql":
        return col.op("~", is_comparison=True)("^[A-Z0-9]+$")
    return ~col.op("GLOB", is_comparison=True)("*[^A-Z0-9]*")


def floor1(value: float) -> float:
    """Round down to one decimal, so 4.99 m² never shows as "5.0 (minimum 5)"."""
    return int(value * 10 + 1e-9) / 10
