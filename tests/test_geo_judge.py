"""The set-based visit judge (geo.house_status, in SQL) against the per-visit one
(geo.plausibility.check_visits, in Python) on random visits: the same reasons for every
visit, and the same house statuses, over the whole district and for a scope of cells."""
from __future__ import annotations

import math
import random
import uuid
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.coverage import cycle_coverage
from geo.cycles import utc_bounds
from geo.distance import EARTH_RADIUS_M
from geo.house_status import (
    LOOKBACK, UNVERIFIED, VISITED, _per_house, judge_visits, statuses_between, unverified_per_cell,
)
from geo.plausibility import HouseSpot, check_visits
from geo.settings import GeoSettings
from tests import factories as f
from webapp.models import Cycle, Visit
from webapp.base.timeutil import utcnow

S = GeoSettings(visit_gps_margin_m=50, walking_speed_kmh=6, walking_same_building_m=30)
LO = datetime(2026, 10, 1, 16, 0, tzinfo=timezone.utc)
HI = datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)
CYCLE = Cycle(name="2026-10b", kind="month", starts_on=date(2026, 10, 2), ends_on=date(2026, 10, 31))  # [LO, HI)
LON, LAT = 121.21, 31.01


def _offset(metres_east: float, metres_north: float) -> tuple[float, float]:
    dlat = math.degrees(metres_north / EARTH_RADIUS_M)
    dlon = math.degrees(metres_east / (EARTH_RADIUS_M * math.cos(math.radians(LAT))))
    return LON + dlon, LAT + dlat


def _world(s: Session, seed: int) -> SimpleNamespace:
    rnd = random.Random(seed)
    committee = f.committee(s)
    cells = [f.cell(s, committee) for _ in range(3)]
    users = [f.user(s, f"j{seed}u{i}", "coordinator") for i in range(4)]
    houses = []
    for i in range(40):
        building = rnd.choice(["1", "2", None])
        number = str(rnd.randint(1, 4))
        spot = _offset(rnd.uniform(-1500, 1500), rnd.uniform(-1500, 1500)) if rnd.random() < 0.85 else (None, None)
        houses.append(f.house(s, cells[i % 3] if i < 36 else None, road="谷阳北路", number=number,
                              building=building, lon=spot[0], lat=spot[1],
                              deleted_at=utcnow() if i in (5, 17) else None))
    visits = []
    for _ in range(220):
        h = rnd.choice(houses)
        if rnd.random() < 0.1:  # the same coordinator at the same moment: order by id decides
            at = visits[-1].visited_at if visits else LO
        else:
            at = LO - LOOKBACK - timedelta(hours=6) + timedelta(seconds=rnd.randint(0, 33 * 86400))
            at = at.replace(microsecond=rnd.choice([0, rnd.randint(0, 999_999)]))
        user = rnd.choice([*users, None])
        if rnd.random() < 0.1 and visits:
            user_id = visits[-1].user_id
        else:
            user_id = user.id if user else None
        if h.lon is not None and rnd.random() < 0.5:
            fix = _offset(rnd.uniform(-120, 120), rnd.uniform(-120, 120))
            fix = (h.lon + fix[0] - LON, h.lat + fix[1] - LAT)
        elif rnd.random() < 0.5:
            fix = _offset(rnd.uniform(-1500, 1500), rnd.uniform(-1500, 1500))
        else:
            fix = (None, None)
        v = Visit(house_id=h.id, user_id=user_id, visited_at=at, outcome="verified",
                  plate_scanned=rnd.random() < 0.8, lon=fix[0], lat=fix[1],
                  accuracy_m=rnd.choice([None, 0.0, 5.0, rnd.uniform(1, 80)]) if fix[0] is not None else None,
                  deleted_at=utcnow() if rnd.random() < 0.05 else None)
        s.add(v)
        s.flush()
        visits.append(v)
    s.commit()
    return SimpleNamespace(cells=cells, houses={h.id: h for h in houses}, visits=visits)


def _reference(w: SimpleNamespace, ids: set[uuid.UUID] | None) -> tuple[dict[uuid.UUID, tuple[str, ...]],
                                                                         dict[uuid.UUID, tuple[uuid.UUID, str]]]:
    """check_visits over the visits the judgement reads, and the statuses it implies."""
    live = [v for v in w.visits if v.deleted_at is None and LO - LOOKBACK <= v.visited_at < HI]
    if ids is not None:
        workers = {v.user_id for v in live if v.visited_at >= LO and v.user_id is not None
                   and w.houses[v.house_id].cell_id in ids}
        live = [v for v in live if v.user_id in workers
                or (v.user_id is None and w.houses[v.house_id].cell_id in ids)]
    spots = {h.id: HouseSpot(h.lon, h.lat, (h.road, h.number, h.building or "")) for h in w.houses.values()}
    reasons = check_visits(live, spots, settings=S)
    statuses: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
    for v in live:
        h = w.houses[v.house_id]
        if v.visited_at < LO or h.cell_id is None or h.deleted_at is not None or (ids is not None and h.cell_id not in ids):
            continue
        if not reasons[v.id]:
            statuses[h.id] = (h.cell_id, VISITED)
        elif h.id not in statuses:
            statuses[h.id] = (h.cell_id, UNVERIFIED)
    return reasons, statuses


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_database_judges_as_check_visits_does(db_session: Session, seed: int) -> None:
    w = _world(db_session, seed)
    for ids in (None, {w.cells[0].id}, {w.cells[1].id, w.cells[2].id}):
        want_reasons, want_statuses = _reference(w, ids)
        got = judge_visits(db_session, LO, HI, ids, S)
        assert got == want_reasons
        statuses = statuses_between(db_session, LO, HI, ids, S)
        assert {k: (v.cell_id, v.status) for k, v in statuses.items()} == want_statuses
        # The coverage figures fold the same verdicts into their per-cell statement.
        report = cycle_coverage(db_session, CYCLE, cell_ids=frozenset(ids) if ids else None, settings=S)
        assert {c.cell_id: c.unverified for c in report.cells if c.unverified} == unverified_per_cell(statuses)
        assert {c.cell_id: c.visited for c in report.cells if c.visited} == dict(
            Counter(s.cell_id for s in statuses.values()))
    assert any(r for r in want_reasons.values())  # the fixture does doubt some visits


def test_at_the_walking_limit_both_judges_agree(db_session: Session) -> None:
    """1000 m due north at 6 km/h takes 600 s: at exactly 600 s the verdict rests on the last
    bit of the floats, and the database's arithmetic gives the same one as Python's."""
    s = db_session
    cell = f.cell(s, f.committee(s))
    u = f.user(s, "walker", "coordinator")
    a = f.house(s, cell, number="1", lon=LON, lat=LAT)
    b = f.house(s, cell, number="9", lon=LON, lat=LAT + math.degrees(1000 / EARTH_RADIUS_M))
    first = Visit(house_id=a.id, user_id=u.id, visited_at=LO + timedelta(hours=1), outcome="verified",
                  plate_scanned=True)
    s.add(first)
    for seconds, house in ((600, b), (1199, a)):
        s.add(Visit(house_id=house.id, user_id=u.id, visited_at=first.visited_at + timedelta(seconds=seconds),
                    outcome="verified", plate_scanned=True))
    s.commit()
    got = judge_visits(s, LO, HI, None, S)
    w = SimpleNamespace(houses={a.id: a, b.id: b}, visits=list(s.scalars(select(Visit))))
    assert got == _reference(w, None)[0]
    assert got[first.id] == () and ("too_fast",) in got.values()


def test_the_cycle_of_the_reference_bounds() -> None:
    assert utc_bounds(CYCLE) == (LO, HI)


@pytest.mark.parametrize("scoped", [False, True])
def test_sqlite_reads_each_coordinators_visits_in_order_without_sorting_them(db_session: Session,
                                                                            scoped: bool) -> None:
    """The window needs each coordinator's visits in time order. Read by ix_visit_user_at, a
    range per coordinator, they come so; sorting the cycle's ~40,000 visits on every coverage
    page was a fifth of judging them at scale 40 (figure 4). The grouping per house still sorts."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans by statistics and sorts or not as they say")
    w = _world(db_session, 4)
    statement = _per_house(db_session, LO, HI, [w.cells[0].id] if scoped else None, S)
    compiled = statement.compile(db_session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = [str(r[-1]) for r in db_session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]
    assert not [p for p in plan if "FOR ORDER BY" in p], plan
    assert [p for p in plan if "visit USING INDEX ix_visit_user_at (user_id=? AND visited_at>? AND visited_at<?)" in p], plan
