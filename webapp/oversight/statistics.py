"""Statistics of the register for a set of cells and a collection cycle: the residents as at
the cycle's last day (or today, while it runs) by category, sex, age band and province of
origin, a population pyramid, houses by use, units by kind and their employees, 群租 and 人户分离,
permits due,
and the residents by category over the last cycles.

Residents as at a day: a live open residency that day (started on or before it, not ended
by it) in a live house of the cells, of a live person. The persons' attributes are today's
(the change log keeps the past ones, but statistics count the register as it stands). The
houses, flags and permits due are today's too: they say what needs doing now. The units by
kind and their employees are frozen when a cycle closes (webapp.oversight.unit_figures):
a closed cycle shows them as they were; a running one, today's.

Counted by GROUP BY in the database, never person by person; tests check every figure
against a plain SQL count. Plain SQLAlchemy: no Flask.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, literal, or_, select
from sqlalchemy.orm import Session

from webapp.models import Cycle, House, HouseFlag, Person, Residency
from webapp.models.enums import HouseUse, PersonCategory, UnitKind
from webapp.oversight import unit_figures

UNKNOWN = "unknown"
AGE_BANDS: tuple[tuple[int, int | None], ...] = ((0, 6), (7, 17), (18, 34), (35, 59), (60, 79), (80, None))
PYRAMID_BANDS: tuple[tuple[int, int | None], ...] = tuple((lo, lo + 9) for lo in range(0, 80, 10)) + ((80, None),)
PERMIT_BUCKETS = ("expired", "due", "later")
SEXES = ("M", "F")
# The charts a persons' list (drill) can be opened from, and how its key is read.
PERSON_CHARTS = ("category", "sex", "age", "province", "pyramid", "permits")


def band_key(band: tuple[int, int | None]) -> str:
    lo, hi = band
    return f"{lo}+" if hi is None else f"{lo}-{hi}"


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_case(as_of: date, bands: Sequence[tuple[int, int | None]]) -> Any:
    """The band of a person's age on `as_of`, by comparing birth dates with the band's first
    birthday (portable: no date arithmetic in SQL)."""
    whens: list[tuple[ColumnElement[bool], ColumnElement[str]]] = [(Person.birth_date.is_(None), literal(UNKNOWN))]
    for band in bands[:-1]:
        # Younger than the band's end + 1 years: born after that many years before as_of.
        whens.append((Person.birth_date > years_before(as_of, (band[1] or 0) + 1), literal(band_key(band))))
    return case(*whens, else_=literal(band_key(bands[-1])))


def living(as_of: date, cell_ids: frozenset[uuid.UUID] | None) -> Select[Any]:
    """Ids of persons living in the cells on `as_of`."""
    where: list[ColumnElement[bool]] = [
        Residency.deleted_at.is_(None), Residency.start_date <= as_of,
        or_(Residency.end_date.is_(None), Residency.end_date > as_of), House.deleted_at.is_(None)]
    if cell_ids is not None:
        where.append(House.cell_id.in_(list(cell_ids)) if cell_ids else false())
    return select(Residency.person_id).join(House, House.id == Residency.house_id).where(*where)


def residents_clause(as_of: date, cell_ids: frozenset[uuid.UUID] | None) -> list[ColumnElement[bool]]:
    return [Person.id.in_(living(as_of, cell_ids)), Person.deleted_at.is_(None)]


def _houses(cell_ids: frozenset[uuid.UUID] | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [House.deleted_at.is_(None)]
    if cell_ids is not None:
        where.append(House.cell_id.in_(list(cell_ids)) if cell_ids else false())
    return where


@dataclass
class Figure:
    """One chart's numbers: (key, count) in display order, and their total."""

    key: str
    rows: list[tuple[str, int]]

    @property
    def total(self) -> int:
        return sum(v for _k, v in self.rows)

    @property
    def top(self) -> int:
        return max((v for _k, v in self.rows), default=0)


@dataclass
class Pyramid:
    bands: list[str]
    male: list[int]
    female: list[int]

    @property
    def top(self) -> int:
        return max([*self.male, *self.female, 0])


@dataclass
class Trend:
    cycles: list[str]
    series: dict[str, list[int]]  # category → residents at each cycle's end

    @property
    def top(self) -> int:
        return max((v for s in self.series.values() for v in s), default=0)


@dataclass
class Statistics:
    as_of: date
    residents: int
    figures: dict[str, Figure] = field(default_factory=dict)
    pyramid: Pyramid | None = None
    trend: Trend | None = None
    units_frozen: bool = False  # the unit figures are the closed cycle's, not today's


def _grouped(session: Session, key: Any, *where: Any) -> dict[str, int]:
    # Annotated: `key` is any expression (untyped); its values are only shown as text.
    counted: Select[object, int] = select(key, func.count()).where(*where).group_by(key)
    rows = session.execute(counted)
    return {(str(k) if k is not None else UNKNOWN): int(n) for k, n in rows}


def _ordered(found: dict[str, int], order: Sequence[str]) -> list[tuple[str, int]]:
    """Known keys in their order (zeros included), others after by count, unknown last."""
    known = [(k, found.get(k, 0)) for k in order]
    rest = sorted(((k, v) for k, v in found.items() if k not in order and k != UNKNOWN), key=lambda kv: (-kv[1], kv[0]))
    tail = [(UNKNOWN, found[UNKNOWN])] if found.get(UNKNOWN) else []
    return known + rest + tail


def permit_bucket(as_of: date, warn_days: int) -> Any:
    return case((Person.permit_expiry < as_of, literal("expired")),
                (Person.permit_expiry <= as_of + timedelta(days=warn_days), literal("due")), else_=literal("later"))


def compute(session: Session, as_of: date, cell_ids: frozenset[uuid.UUID] | None, *, today: date,
            permit_warn_days: int, cycles: Sequence[Cycle] = (), cycle: Cycle | None = None) -> Statistics:
    """The figures as at `as_of`; `cycle` is the one shown (its frozen unit figures once closed)."""
    residents = residents_clause(as_of, cell_ids)
    out = Statistics(as_of, int(session.scalar(select(func.count()).select_from(Person).where(*residents)) or 0))
    f = out.figures
    f["category"] = Figure("category", _ordered(_grouped(session, Person.category, *residents),
                                                [c.value for c in PersonCategory]))
    f["sex"] = Figure("sex", _ordered(_grouped(session, Person.sex, *residents), SEXES))
    f["age"] = Figure("age", _ordered(_grouped(session, age_case(as_of, AGE_BANDS), *residents),
                                      [band_key(b) for b in AGE_BANDS]))
    f["province"] = Figure("province", _ordered(
        _grouped(session, func.substr(Person.hukou_region, 1, 2), *residents,
                 Person.category == PersonCategory.MIGRANT), []))
    f["permits"] = Figure("permits", _ordered(
        _grouped(session, permit_bucket(as_of, permit_warn_days), *residents, Person.permit_expiry.is_not(None)),
        PERMIT_BUCKETS))
    band = age_case(as_of, PYRAMID_BANDS)
    # Annotated: the band is an untyped `case`; the sex is set (IN `SEXES`).
    by_sex_band: Select[str, str, int] = (
        select(Person.sex, band, func.count()).where(*residents, Person.sex.in_(SEXES)).group_by(Person.sex, band))
    pyramid = {f"{sex}:{b}": int(n) for sex, b, n in session.execute(by_sex_band)}
    bands = [band_key(b) for b in PYRAMID_BANDS]
    out.pyramid = Pyramid(bands, [pyramid.get(f"M:{b}", 0) for b in bands], [pyramid.get(f"F:{b}", 0) for b in bands])
    houses = _houses(cell_ids)
    f["use"] = Figure("use", _ordered(_grouped(session, House.use, *houses), [u.value for u in HouseUse]))
    # 实有单位: frozen at a closed cycle's end (employer links have no history), else today's.
    frozen = unit_figures.frozen(session, cycle, cell_ids) if cycle is not None and cycle.is_closed else None
    out.units_frozen = frozen is not None
    units, employees = frozen if frozen is not None else unit_figures.live(session, cell_ids)
    kinds = [k.value for k in UnitKind]
    f["unit_kind"] = Figure("unit_kind", _ordered(units, kinds))
    f["unit_employees"] = Figure("unit_employees", _ordered(employees, kinds))
    f["findings"] = Figure("findings", findings(session, cell_ids, today=today))
    if cycles:
        out.trend = trend(session, cycles, cell_ids, today=today)
    return out


def findings(session: Session, cell_ids: frozenset[uuid.UUID] | None, *, today: date) -> list[tuple[str, int]]:
    """群租 and 人户分离 today: houses flagged as group renting (by a person or a rule's task),
    and residents recorded as 人户分离. What the rules suspect, with their reasons, is the
    reports' lists (running every rule here made the page several times slower)."""
    flagged = session.scalar(
        select(func.count()).select_from(HouseFlag).join(House, House.id == HouseFlag.house_id)
        .where(HouseFlag.kind == "group_rent", HouseFlag.cleared_at.is_(None), HouseFlag.deleted_at.is_(None),
               *_houses(cell_ids))) or 0
    recorded = session.scalar(select(func.count()).select_from(Person).where(
        *residents_clause(today, cell_ids), Person.category == PersonCategory.SEPARATED)) or 0
    return [("group_rent_flagged", int(flagged)), ("separated_recorded", int(recorded))]


def trend(session: Session, cycles: Sequence[Cycle], cell_ids: frozenset[uuid.UUID] | None, *,
          today: date) -> Trend:
    """Residents by category at the end of each cycle (today for one still running), oldest first."""
    ordered = sorted(cycles, key=lambda c: c.starts_on)
    series: dict[str, list[int]] = {c.value: [] for c in PersonCategory}
    for cycle in ordered:
        counts = _grouped(session, Person.category, *residents_clause(min(cycle.ends_on, today), cell_ids))
        for key, values in series.items():
            values.append(counts.get(key, 0))
    return Trend([c.name for c in ordered], series)


def drill_clause(chart: str, key: str, as_of: date, permit_warn_days: int) -> ColumnElement[bool] | None:
    """Which residents a chart's bar stands for (None: no such bar)."""
    def by(column: Any, value: str) -> ColumnElement[bool]:
        return column.is_(None) if value == UNKNOWN else column == value

    if chart == "category" and (key in {c.value for c in PersonCategory} or key == UNKNOWN):
        return by(Person.category, key)
    if chart == "sex" and key in (*SEXES, UNKNOWN):
        return by(Person.sex, key)
    if chart == "age" and key in {band_key(b) for b in AGE_BANDS} | {UNKNOWN}:
        return age_case(as_of, AGE_BANDS) == key
    if chart == "province" and (key == UNKNOWN or (len(key) == 2 and key.isdigit())):
        region = func.substr(Person.hukou_region, 1, 2)
        return and_(Person.category == PersonCategory.MIGRANT,
                    Person.hukou_region.is_(None) if key == UNKNOWN else region == key)
    if chart == "pyramid" and ":" in key:
        sex, band = key.split(":", 1)
        if sex in SEXES and band in {band_key(b) for b in PYRAMID_BANDS}:
            return and_(Person.sex == sex, age_case(as_of, PYRAMID_BANDS) == band)
    if chart == "permits" and key in PERMIT_BUCKETS:
        return and_(Person.permit_expiry.is_not(None), permit_bucket(as_of, permit_warn_days) == key)
    return None


def drill(session: Session, chart: str, key: str, as_of: date, cell_ids: frozenset[uuid.UUID] | None, *,
          permit_warn_days: int, offset: int = 0, limit: int = 100) -> tuple[list[Person], int] | None:
    """The residents behind one bar, by name, paged; None for an unknown chart or bar."""
    clause = drill_clause(chart, key, as_of, permit_warn_days)
    if clause is None:
        return None
    where = [*residents_clause(as_of, cell_ids), clause]
    total = int(session.scalar(select(func.count()).select_from(Person).where(*where)) or 0)
    persons = list(session.scalars(select(Person).where(*where).order_by(Person.name, Person.id)
                                   .offset(offset).limit(limit)))
    return persons, total
