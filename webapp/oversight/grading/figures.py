"""The raw counts behind a grade, per cell, each with one GROUP BY over the whole area.

Counted per cell (`None`: houses in no cell, which only the subdistrict total holds) and
summed per committee by the caller.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, Select, case, distinct, false, func, literal, or_, select
from sqlalchemy.orm import Session

from webapp.models import Cycle, House, Person, Residency, Review, Unit, Visit
from webapp.models.enums import HouseUse, PersonCategory
from webapp.registry.review import LATE_AFTER_DAYS
from webapp.registry.rules.base import live_person, open_residency, unindexed
from webapp.registry.rules.settings import RuleSettings
from webapp.base.timeutil import local_day_bounds_utc

CellCounts = dict[uuid.UUID | None, dict[str, int]]


def _in_cells(cell_ids: frozenset[uuid.UUID] | None) -> list[ColumnElement[bool]]:
    if cell_ids is None:
        return [House.deleted_at.is_(None)]
    return [House.deleted_at.is_(None), House.cell_id.in_(list(cell_ids)) if cell_ids else false()]


def _filled(col: Any) -> Any:
    return case((col.is_(None), 0), else_=1)


def _text_filled(col: Any) -> Any:
    return case((or_(col.is_(None), col == ""), 0), else_=1)


def completeness(session: Session, cell_ids: frozenset[uuid.UUID] | None, out: CellCounts,
                 terms: list[Any] = ()) -> None:  # type: ignore[assignment]
    """Required fields: a person's name, ID number, sex, birth date and (unless from abroad)
    hukou region; a house's floor area and (unless commercial) living area; a unit's name
    and credit code. Phones and locations are accuracy findings, so not counted twice.

    The persons' pass also counts the rules' resident terms (`Rule.resident_terms`) as
    violations: each visit to a person and their house is the costly part at district
    scale, so it is made once for all of them."""
    local = Person.category != PersonCategory.OVERSEAS
    violations = sum((case((term, 1), else_=0) for term in terms), literal(0))
    whole = cell_ids is None
    # The whole area: read the persons in table order, each one's open residency by its
    # unique partial index, rather than every residency with a random person lookup (which
    # the plain join makes SQLite choose): a fifth less CPU and far fewer page reads.
    person_id = unindexed(Person.id) if whole else Person.id
    # Annotated: `func.sum` of a `case` is typed Any, which leaves the rows untyped; the
    # database returns a count and integer sums.
    persons: Select[uuid.UUID | None, int, int | None, int | None, int | None] = (
        select(House.cell_id, func.count(Person.id),
               func.sum(4 + case((local, 1), else_=0)),
               func.sum(_text_filled(Person.name) + _text_filled(Person.id_number) + _filled(Person.sex)
                        + _filled(Person.birth_date) + case((local, _text_filled(Person.hukou_region)), else_=0)),
               func.sum(violations))
        .select_from(Residency).join(Person, person_id == Residency.person_id)
        .join(House, House.id == Residency.house_id)
        .where(open_residency(), live_person(scan=True), *_in_cells(cell_ids))
        .group_by(House.cell_id))
    for cell_id, n, required, filled, found in session.execute(persons):
        _put(out, cell_id, persons=n, fields_required=required, fields_filled=filled, violations=found)
    dwelling = House.use != HouseUse.COMMERCIAL
    houses: Select[uuid.UUID | None, int, int | None, int | None] = (
        select(House.cell_id, func.count(House.id), func.sum(1 + case((dwelling, 1), else_=0)),
               func.sum(_filled(House.floor_area) + case((dwelling, _filled(House.living_area)), else_=0)))
        .where(*_in_cells(cell_ids)).group_by(House.cell_id))
    for cell_id, n, required, filled in session.execute(houses):
        _put(out, cell_id, houses=n, fields_required=required, fields_filled=filled)
    units: Select[uuid.UUID | None, int, int | None] = (
        select(House.cell_id, func.count(Unit.id), func.sum(_text_filled(Unit.name) + _text_filled(Unit.uscc)))
        .join(House, House.id == Unit.house_id)
        .where(Unit.deleted_at.is_(None), *_in_cells(cell_ids)).group_by(House.cell_id))
    for cell_id, n, filled in session.execute(units):
        _put(out, cell_id, units=n, fields_required=2 * n, fields_filled=filled)
    for counts in out.values():
        counts["records"] = counts.get("persons", 0) + counts.get("houses", 0) + counts.get("units", 0)


@dataclass(frozen=True)
class Change:
    """A move in or out recorded in the cycle, and how long after the visit that found it."""

    residency_id: uuid.UUID
    person_id: uuid.UUID
    house_id: uuid.UUID
    cell_id: uuid.UUID | None
    kind: str  # "arrival" | "departure"
    on: date  # the day it happened
    found_at: datetime | None  # the first visit to the house on or after that day
    recorded_at: datetime  # the residency's last change: when the move was recorded

    def late(self, days: int) -> bool:
        return self.found_at is not None and self.recorded_at - self.found_at > timedelta(days=days)

    @property
    def lag_days(self) -> int | None:
        return None if self.found_at is None else max(0, (self.recorded_at - self.found_at).days)


def changes(session: Session, cycle: Cycle, cell_ids: frozenset[uuid.UUID] | None) -> list[Change]:
    """Arrivals and departures dated inside the cycle. A residency keeps no creation time, so
    its last change (`changed_at`) stands for when the move was recorded; a move recorded
    before any visit (a declaration, an import) is on time."""
    out = []
    for kind, day in (("arrival", Residency.start_date), ("departure", Residency.end_date)):
        first_visit = (select(func.min(Visit.visited_at))
                       .where(Visit.house_id == Residency.house_id, Visit.deleted_at.is_(None), Visit.visited_at >= day)
                       .correlate(Residency).scalar_subquery())
        # Seven columns are more than `select()`'s typed overloads take. `day` is never NULL
        # here (it lies in the cycle); `found` may come back as text (see `_aware`).
        moves: Select[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID | None, date, datetime | str | None, datetime] = (
            select(Residency.id, Residency.person_id, House.id, House.cell_id, day, first_visit,
                   Residency.changed_at)
            .join(House, House.id == Residency.house_id).join(Person, Person.id == Residency.person_id)
            .where(Residency.deleted_at.is_(None), live_person(), day.between(cycle.starts_on, cycle.ends_on),
                   *_in_cells(cell_ids)))
        for rid, pid, house_id, cell_id, on, found, recorded in session.execute(moves):
            out.append(Change(rid, pid, house_id, cell_id, kind, on, _aware(found), recorded))
    return out


def _aware(value: Any) -> datetime | None:
    """min() over a UTC column comes back without the column's type on some backends."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc)


def timeliness(session: Session, cycle: Cycle, as_of: date, cell_ids: frozenset[uuid.UUID] | None,
               settings: RuleSettings, out: CellCounts) -> list[Change]:
    found = changes(session, cycle, cell_ids)
    for ch in found:
        counts = out.setdefault(ch.cell_id, {})
        counts["changes"] = counts.get("changes", 0) + 1
        counts["late_changes"] = counts.get("late_changes", 0) + int(ch.late(settings.timely_record_days))
    lo, hi = recent_window(as_of, settings)
    for cell_id, n in session.execute(
            select(House.cell_id, func.count(distinct(Visit.house_id))).join(House, House.id == Visit.house_id)
            .where(Visit.deleted_at.is_(None), Visit.visited_at >= lo, Visit.visited_at < hi, *_in_cells(cell_ids))
            .group_by(House.cell_id)):
        _put(out, cell_id, houses_recent=n)
    return found


def reviews(session: Session, as_of: date, cell_ids: frozenset[uuid.UUID] | None, out: CellCounts) -> None:
    """Per cell of the house: reviews waiting longer than LATE_AFTER_DAYS since their last move
    (pending on the lead or returned to the coordinator), and reviews returned now."""
    cutoff = local_day_bounds_utc(as_of - timedelta(days=LATE_AFTER_DAYS))[1]
    waiting = Review.status != "approved"
    for cell_id, late, returned in session.execute(
            select(House.cell_id, func.count().filter(waiting, Review.changed_at < cutoff),
                   func.count().filter(Review.status == "returned"))
            .join(House, House.id == Review.house_id)
            .where(Review.deleted_at.is_(None), waiting, *_in_cells(cell_ids)).group_by(House.cell_id)):
        _put(out, cell_id, reviews_late=late, reviews_returned=returned)


def recent_window(as_of: date, settings: RuleSettings) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the VISIT_MAX_AGE_DAYS local days up to and including `as_of`."""
    return (local_day_bounds_utc(as_of - timedelta(days=settings.visit_max_age_days - 1))[0],
            local_day_bounds_utc(as_of)[1])


def _put(out: CellCounts, cell_id: uuid.UUID | None, **values: Any) -> None:
    counts = out.setdefault(cell_id, defaultdict(int))
    for k, v in values.items():
        counts[k] = counts.get(k, 0) + int(v or 0)


__all__ = ["CellCounts", "Change", "changes", "completeness", "recent_window", "reviews", "timeliness"]
