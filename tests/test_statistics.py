"""/statistics: every figure against a plain SQL count (or plain Python over plain SQL rows),
for several scopes and days, on both backends; the page's tables, exports and drill-downs."""
from __future__ import annotations

import io
import random
import re
from collections import Counter
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import Date, bindparam, select, text
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import login, valid_id
from webapp.models import AuditEntry, Cycle, HouseFlag, Person, Unit
from webapp.oversight.grading import close_and_freeze
from webapp.oversight.statistics import AGE_BANDS, PYRAMID_BANDS, compute, drill
from webapp.base.timeutil import local_today, utcnow

TODAY = local_today()
WARN = 30
REGIONS = ["340102", "320105", "410102", "510104", None]


@pytest.fixture
def town(area, db_session: Session):  # type: ignore[no-untyped-def]
    """About 80 residents of every kind around the `area` fixture's houses, with ended, future
    and deleted residencies, deleted persons and houses, units and flags: seeded, so the same
    every run."""
    rng = random.Random(19)
    s = db_session
    houses = [area.houses[k] for k in ("A1", "A2", "B1", "none")]
    houses += [f.house(s, area.cells[k], use=rng.choice(["rented", "owner_occupied", "idle", "dormitory"]))
               for k in ("A1", "A1", "A2", "B1")]
    gone = f.house(s, area.cells["A1"])
    gone.tombstone(None)
    houses.append(gone)
    for n in range(80):
        born = None if n % 11 == 0 else date(1936 + rng.randrange(88), rng.randrange(1, 13), rng.randrange(1, 28))
        sex = rng.choice(["M", "F", None])
        kw = {"category": rng.choice(["huji", "separated", "migrant", "overseas"]), "sex": sex, "birth_date": born,
              "hukou_region": rng.choice(REGIONS),
              "permit_expiry": rng.choice([None, TODAY - timedelta(days=5), TODAY + timedelta(days=10),
                                           TODAY + timedelta(days=400)])}
        # Sex and birth date given, not the ID number's: these figures are the point.
        p = f.person(s, name=f"居民{n:02d}", id_number=valid_id(f"41010219900101{n:03d}"), **kw)
        start = TODAY - timedelta(days=rng.randrange(1, 900))
        end = rng.choice([None, None, None, TODAY - timedelta(days=rng.randrange(0, 60)), TODAY + timedelta(days=20)])
        r = f.residency(s, p, rng.choice(houses), start_date=start, end_date=end if end is None or end > start else None)
        if n % 17 == 0:
            r.deleted_at = utcnow()
        if n % 23 == 0:
            p.tombstone(None)
    f.residency(s, f.person(s, name="未来住户"), houses[0], start_date=TODAY + timedelta(days=3))
    units = []
    for kind, house in (("enterprise", houses[0]), ("shop", houses[0]), ("shop", houses[2]), ("public", None)):
        units.append(Unit(name=f"单位{kind}", house_id=house.id if house else None, kind=kind))
    units.append(Unit(name="注销单位", house_id=houses[1].id, kind="shop", deleted_at=utcnow()))
    s.add_all(units)
    s.flush()
    # Employees: persons linked to a unit as employer, wherever (and whether) they live.
    for n, p in enumerate(s.scalars(select(Person).order_by(Person.name)).all()):
        if n % 3 == 0:
            p.employer_unit_id = units[n % len(units)].id
    s.add(HouseFlag(house_id=houses[0].id, kind="group_rent"))
    s.add(HouseFlag(house_id=houses[1].id, kind="group_rent", cleared_at=utcnow()))
    last_month = Cycle(name="past", starts_on=TODAY - timedelta(days=60), ends_on=TODAY - timedelta(days=31))
    s.add(last_month)
    s.commit()
    return area


# Scopes: everything (the centre, the police), committee A's cells, one cell.
SCOPES = {"all": None, "committee A": "c.committee_id = (SELECT id FROM committee WHERE name = '甲居委')",
          "cell A2": "c.code = :a2"}


def _cells(town, scope: str):  # type: ignore[no-untyped-def]
    if scope == "all":
        return None
    if scope == "committee A":
        return frozenset({town.cells["A1"].id, town.cells["A2"].id})
    return frozenset({town.cells["A2"].id})


def _sql(db_session: Session, town, scope: str, sql: str, **params: object) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    where = SCOPES[scope]
    in_cells = f"h.cell_id IN (SELECT c.id FROM cell c WHERE {where})" if where else "1 = 1"
    stmt = text(sql.replace("{in_cells}", in_cells)).bindparams(*[bindparam(k, type_=Date) for k, v in params.items()
                                                                   if isinstance(v, date)])
    if ":a2" in stmt.text:
        params["a2"] = town.cells["A2"].code
    return [tuple(r) for r in db_session.execute(stmt, params)]


RESIDENTS = """SELECT {cols} FROM person p WHERE p.deleted_at IS NULL AND p.id IN (
  SELECT r.person_id FROM residency r JOIN house h ON h.id = r.house_id
  WHERE r.deleted_at IS NULL AND r.start_date <= :d AND (r.end_date IS NULL OR r.end_date > :d)
    AND h.deleted_at IS NULL AND {{in_cells}})"""


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _band(age: int, bands) -> str:  # type: ignore[no-untyped-def]
    for lo, hi in bands:
        if age >= lo and (hi is None or age <= hi):
            return f"{lo}+" if hi is None else f"{lo}-{hi}"
    raise AssertionError(age)


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("days_ago", [0, 45])
def test_every_figure_matches_plain_sql(db_session: Session, town, scope: str, days_ago: int) -> None:  # type: ignore[no-untyped-def]
    as_of = TODAY - timedelta(days=days_ago)
    stats = compute(db_session, as_of, _cells(town, scope), today=TODAY, permit_warn_days=WARN)
    figures = {k: {key: v for key, v in fig.rows if v} for k, fig in stats.figures.items()}
    rows = _sql(db_session, town, scope, RESIDENTS.format(cols="p.category, p.sex, p.birth_date, p.hukou_region, "
                                                                "p.permit_expiry"), d=as_of)
    assert stats.residents == len(rows) > 10
    assert figures["category"] == dict(Counter(r[0] for r in rows))
    assert figures["sex"] == dict(Counter(r[1] or "unknown" for r in rows))
    ages = Counter("unknown" if r[2] is None else _band(_age(_as_date(r[2]), as_of), AGE_BANDS) for r in rows)
    assert figures["age"] == dict(ages)
    assert figures["province"] == dict(Counter((r[3] or "")[:2] or "unknown" for r in rows if r[0] == "migrant"))
    permits = Counter("expired" if _as_date(r[4]) < as_of else "due" if _as_date(r[4]) <= as_of + timedelta(days=WARN)
                      else "later" for r in rows if r[4] is not None)
    assert figures["permits"] == dict(permits)
    pyramid = Counter(f"{r[1]}:{_band(_age(_as_date(r[2]), as_of), PYRAMID_BANDS)}" for r in rows
                      if r[1] in ("M", "F") and r[2] is not None)
    p = stats.pyramid
    assert p is not None
    assert {f"{sex}:{b}": n for sex, values in (("M", p.male), ("F", p.female)) for b, n in zip(p.bands, values, strict=True)
            if n} == dict(pyramid)
    houses = _sql(db_session, town, scope, "SELECT h.use, count(*) FROM house h WHERE h.deleted_at IS NULL AND {in_cells} "
                                           "GROUP BY h.use")
    assert figures["use"] == dict(houses)
    unit_sql = ("SELECT u.kind, count(*) FROM unit u LEFT JOIN house h ON h.id = u.house_id WHERE u.deleted_at IS NULL "
                "AND ((h.id IS NOT NULL AND h.deleted_at IS NULL AND {in_cells})" + (" OR u.house_id IS NULL" if scope == "all"
                                                                                     else "") + ") GROUP BY u.kind")
    assert figures["unit_kind"] == dict(_sql(db_session, town, scope, unit_sql))
    employees_sql = unit_sql.replace("SELECT u.kind, count(*) FROM unit u", "SELECT u.kind, count(*) FROM unit u "
                                     "JOIN person e ON e.employer_unit_id = u.id AND e.deleted_at IS NULL")
    assert figures["unit_employees"] == dict(_sql(db_session, town, scope, employees_sql))
    [(flagged,)] = _sql(db_session, town, scope, "SELECT count(*) FROM house_flag fl JOIN house h ON h.id = fl.house_id "
                                                 "WHERE fl.kind = 'group_rent' AND fl.cleared_at IS NULL AND "
                                                 "fl.deleted_at IS NULL AND h.deleted_at IS NULL AND {in_cells}")
    assert dict(stats.figures["findings"].rows)["group_rent_flagged"] == flagged
    today_rows = _sql(db_session, town, scope, RESIDENTS.format(cols="p.category"), d=TODAY)
    assert dict(stats.figures["findings"].rows)["separated_recorded"] == sum(r[0] == "separated" for r in today_rows)


def test_the_trend_counts_each_cycle_at_its_end(db_session: Session, town) -> None:  # type: ignore[no-untyped-def]
    cycles = list(db_session.scalars(select(Cycle)))
    stats = compute(db_session, TODAY, None, today=TODAY, permit_warn_days=WARN,
                    cycles=cycles)
    assert stats.trend is not None and stats.trend.cycles == ["past"]
    ends = TODAY - timedelta(days=31)
    want = Counter(r[0] for r in _sql(db_session, town, "all", RESIDENTS.format(cols="p.category"), d=ends))
    assert {k: v[0] for k, v in stats.trend.series.items() if v[0]} == dict(want)


def _page_table(html: str, chart: str) -> dict[str, int]:
    table = re.search(rf'<table class="list figures" data-chart="{chart}">(.*?)</table>', html, re.S).group(1)  # type: ignore[union-attr]
    return {k: int(v) for k, v in re.findall(r'<tr data-key="([^"]+)">.*?data-value="(\d+)"', table, re.S)}


def _chart_marks(html: str, chart: str) -> dict[str, int]:
    svg = re.search(rf'<svg class="chart bars"[^>]*data-chart="{chart}">(.*?)</svg>', html, re.S).group(1)  # type: ignore[union-attr]
    return {k: int(v) for k, v in re.findall(r'data-key="([^"]+)" data-value="(\d+)"', svg)}


def test_the_page_shows_each_chart_with_the_same_numbers_as_its_table(client, db_session, town) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    html = client.get("/statistics").get_data(as_text=True)
    stats = compute(db_session, TODAY, _cells(town, "committee A"), today=TODAY, permit_warn_days=WARN)
    for chart in ("category", "sex", "age", "province", "permits", "use", "unit_kind", "unit_employees", "findings"):
        assert _page_table(html, chart) == dict(stats.figures[chart].rows), chart
        assert _chart_marks(html, chart) == dict(stats.figures[chart].rows), chart
    assert "<script" not in html.split("</head>")[1]  # drawn on the server: no script draws it


def test_a_chart_exports_its_table_and_is_audited(client, db_session, town) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead")
    response = client.get("/statistics/export/category.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    stats = compute(db_session, TODAY, _cells(town, "committee A"), today=TODAY, permit_warn_days=WARN)
    assert [r[1] for r in rows[2:]] == [v for _k, v in stats.figures["category"].rows]
    db_session.rollback()
    [entry] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "export_statistics")).all()
    assert entry.detail["chart"] == "category" and entry.user_id == town.users["grid_lead"].id


@pytest.mark.parametrize(("username", "clear"), [("centre", True), ("police", False)])
def test_the_residents_behind_a_bar_masked_and_audited(client, db_session, town, username: str, clear: bool) -> None:  # type: ignore[no-untyped-def]
    stats = compute(db_session, TODAY, None, today=TODAY, permit_warn_days=WARN)
    count = dict(stats.figures["category"].rows)["migrant"]
    login(client, username)
    html = client.get("/statistics/persons?chart=category&key=migrant").get_data(as_text=True)
    assert f"共 {count} 人" in html
    found = drill(db_session, "category", "migrant", TODAY, None, permit_warn_days=WARN, limit=1000)
    assert found is not None and found[1] == count and all(p.category == "migrant" for p in found[0])
    numbers = [p.id_number for p in found[0] if p.id_number]
    assert numbers and all((n in html) == clear for n in numbers)
    db_session.rollback()
    [entry] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "statistics_persons")).all()
    assert len(entry.detail["persons"]) == count and entry.detail["clear"] == (["birth_date", "id_number"] if clear else [])


@pytest.mark.parametrize("query", ["chart=category&key=nobody", "chart=nothing&key=M", "chart=pyramid&key=X:0-9",
                                   "chart=province&key=3401"])
def test_unknown_bars_are_not_found(client, town, query: str) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    assert client.get(f"/statistics/persons?{query}").status_code == 404


def test_every_drill_adds_up_to_its_chart(db_session: Session, town) -> None:  # type: ignore[no-untyped-def]
    cells = _cells(town, "committee A")
    stats = compute(db_session, TODAY, cells, today=TODAY, permit_warn_days=WARN)
    for chart in ("category", "sex", "age", "province", "permits"):
        for key, value in stats.figures[chart].rows:
            found = drill(db_session, chart, key, TODAY, cells, permit_warn_days=WARN)
            assert found is not None and found[1] == value, (chart, key)
    p = stats.pyramid
    assert p is not None
    for sex, values in (("M", p.male), ("F", p.female)):
        for band, value in zip(p.bands, values, strict=True):
            found = drill(db_session, "pyramid", f"{sex}:{band}", TODAY, cells, permit_warn_days=WARN)
            assert found is not None and found[1] == value
    assert db_session.scalar(select(Person).where(Person.name == "未来住户")) is not None


def _units(stats) -> tuple[dict[str, int], dict[str, int]]:  # type: ignore[no-untyped-def]
    return ({k: v for k, v in stats.figures["unit_kind"].rows if v},
            {k: v for k, v in stats.figures["unit_employees"].rows if v})


@pytest.mark.parametrize("scope", list(SCOPES))
def test_a_closed_cycle_keeps_its_unit_figures(db_session: Session, town, scope: str) -> None:  # type: ignore[no-untyped-def]
    """实有单位 per cycle: closing the cycle freezes units by kind and their employees; later a
    unit closes, another opens and persons change jobs, and the closed cycle still shows what
    it counted, while today's figures (a running cycle) move."""
    s = db_session
    cycle = s.scalar(select(Cycle).where(Cycle.name == "past"))
    cells = _cells(town, scope)
    before = _units(compute(s, cycle.ends_on, cells, today=TODAY, permit_warn_days=WARN))
    assert sum(before[0].values()) > 0 or scope == "cell A2"  # A2 has none until one opens below
    close_and_freeze(s, cycle, None, today=TODAY)
    s.commit()
    frozen = compute(s, cycle.ends_on, cells, today=TODAY, permit_warn_days=WARN, cycle=cycle)
    assert frozen.units_frozen and _units(frozen) == before

    live_units = list(s.scalars(select(Unit).where(Unit.deleted_at.is_(None)).order_by(Unit.name)))
    for u in live_units[:2]:
        u.deleted_at = utcnow()
    s.add(Unit(name="新开单位", house_id=town.houses["A2"].id, kind="enterprise"))
    s.flush()
    for p in s.scalars(select(Person).where(Person.employer_unit_id.is_not(None))):
        p.employer_unit_id = live_units[-1].id
    s.commit()

    again = compute(s, cycle.ends_on, cells, today=TODAY, permit_warn_days=WARN, cycle=cycle)
    assert again.units_frozen and _units(again) == before
    today = compute(s, TODAY, cells, today=TODAY, permit_warn_days=WARN)
    assert not today.units_frozen and _units(today) != before


def test_a_cycle_closed_before_freezing_shows_todays_units(db_session: Session, town) -> None:  # type: ignore[no-untyped-def]
    """Cycles closed before unit figures were frozen have no rows: today's figures, and the
    page says so rather than passing them off as the cycle's."""
    cycle = db_session.scalar(select(Cycle).where(Cycle.name == "past"))
    cycle.closed_at = utcnow()
    db_session.commit()
    stats = compute(db_session, cycle.ends_on, None, today=TODAY, permit_warn_days=WARN, cycle=cycle)
    assert not stats.units_frozen
    assert _units(stats) == _units(compute(db_session, TODAY, None, today=TODAY, permit_warn_days=WARN))


def test_the_page_says_whose_unit_figures_it_shows(client, db_session, town) -> None:  # type: ignore[no-untyped-def]
    cycle = db_session.scalar(select(Cycle).where(Cycle.name == "past"))
    close_and_freeze(db_session, cycle, None, today=TODAY)
    db_session.commit()
    login(client, "centre")
    closed = client.get(f"/statistics?cycle={cycle.id}").get_data(as_text=True)
    assert 'data-units="frozen"' in closed and "为本周期结束时冻结的数据" in closed
    running = client.get("/statistics").get_data(as_text=True)
    assert 'data-units="today"' in running
