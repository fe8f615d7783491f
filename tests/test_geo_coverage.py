"""Coverage figures against a fixture counted by hand, the frozen snapshot, and cycles."""
from __future__ import annotations

import math
import uuid
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from geo.coverage import FIGURES, close_cycle, current_cycle, cycle_coverage, unvisited_houses
from geo.distance import EARTH_RADIUS_M
from geo.settings import GeoSettings
from tests import factories as f
from webapp.models import Conflict, Cycle, Person, Task, Visit
from webapp.base.timeutil import utcnow

SH = ZoneInfo("Asia/Shanghai")
S = GeoSettings(visit_gps_margin_m=50, walking_speed_kmh=6, walking_same_building_m=30, collection_cycle="month")
LON, LAT = 121.21, 31.01


def local(month: int, day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, ss, tzinfo=SH)


def north(metres: float) -> float:
    return LAT + math.degrees(metres / EARTH_RADIUS_M)


def visit(s: Session, house: Any, user: Any, at: datetime, *, scanned: bool = True, gps: tuple[float, float] | None = None,
          accuracy: float | None = 10.0, deleted: bool = False) -> Visit:
    v = Visit(house_id=house.id, user_id=user.id, visited_at=at, outcome="verified", plate_scanned=scanned,
              lon=gps[0] if gps else None, lat=gps[1] if gps else None, accuracy_m=accuracy if gps else None,
              deleted_at=utcnow() if deleted else None)
    s.add(v)
    s.flush()
    return v


def touch_person(s: Session, person: Person, at: datetime) -> None:
    """Make the person look edited at `at` (version 2), bypassing the ORM's own clock."""
    table: Table = Person.__table__  # type: ignore[assignment]
    s.execute(update(table).where(table.c.id == person.id).values(version=2, changed_at=at))
    s.expire(person)


@pytest.fixture
def world(db_session: Session) -> SimpleNamespace:
    """Committee K1 with cells X and Y, committee K2 with cell Z; cycle 2026-10 (Oct 1–31)."""
    s = db_session
    k1, k2 = f.committee(s, name="甲居委"), f.committee(s, name="乙居委")
    x, y, z = f.cell(s, k1, code="X"), f.cell(s, k1, code="Y"), f.cell(s, k2, code="Z")
    gone = f.cell(s, k1, code="W", deleted_at=utcnow())  # a deleted cell is not shown
    c1, c2 = f.user(s, "c1", "coordinator"), f.user(s, "c2", "coordinator")
    at = {"lon": LON, "lat": LAT}
    h = {n: f.house(s, x, **at) for n in (1, 2, 3, 4, 5, 7)}
    h[6] = f.house(s, x, deleted_at=utcnow(), **at)
    h[8], h[10] = f.house(s, y, **at), f.house(s, y, **at)
    h[9] = f.house(s, y, lon=LON, lat=north(1000))
    h[11] = f.house(s, z, **at)
    f.house(s, gone, **at)
    door = (LON, LAT)

    # Cell X
    visit(s, h[1], c1, local(10, 5, 10, 0), gps=door)  # scanned at the door: verified
    visit(s, h[2], c1, local(10, 6, 10, 0), scanned=False, gps=door)  # typed...
    visit(s, h[2], c1, local(10, 7, 10, 0), gps=door)  # ...then scanned: verified
    visit(s, h[3], c1, local(10, 8, 10, 0), scanned=False, gps=door)  # typed only: unverified
    visit(s, h[4], c1, local(9, 30, 23, 59, 59), gps=door)  # a second before the cycle
    visit(s, h[4], c1, local(11, 1, 0, 0, 0), gps=door)  # the first second after it
    visit(s, h[5], c1, local(10, 31, 23, 59, 59), gps=(LON, north(500)))  # last second; 500 m off
    visit(s, h[6], c1, local(10, 9, 10, 0), gps=door)  # deleted house
    visit(s, h[7], c1, local(10, 9, 11, 0), gps=door, deleted=True)  # deleted visit
    # c2 at h11 (cell Z), then 60 s later at h9 (cell Y) 1 km away: too fast for h9.
    visit(s, h[11], c2, local(10, 10, 10, 0))
    visit(s, h[9], c2, local(10, 10, 10, 1))
    visit(s, h[8], c2, local(10, 10, 12, 0))  # two hours later: fine

    p = {n: f.person(s, name=f"人{n}") for n in range(1, 9)}
    f.residency(s, p[1], h[1], start_date=date(2025, 1, 1))  # open
    f.residency(s, p[2], h[1], start_date=date(2026, 10, 15))  # open, new in the cycle
    f.residency(s, p[3], h[2], start_date=date(2020, 1, 1), end_date=date(2026, 10, 20))  # departed
    f.residency(s, p[4], h[2], start_date=date(2026, 11, 5))  # starts after the cycle
    f.residency(s, p[5], h[3], start_date=date(2020, 1, 1), end_date=date(2026, 11, 10))  # open on Oct 31
    f.residency(s, p[6], h[3], start_date=date(2020, 1, 1), deleted_at=utcnow())  # deleted residency
    p[7].deleted_at = utcnow()
    f.residency(s, p[7], h[5], start_date=date(2020, 1, 1))  # deleted person
    f.residency(s, p[8], h[8], start_date=date(2019, 1, 1))  # cell Y
    s.flush()
    touch_person(s, p[1], local(10, 12, 9, 0))  # changed in the cycle
    touch_person(s, p[3], local(10, 20, 9, 0))  # changed in the cycle (while departing)
    touch_person(s, p[5], local(9, 20, 9, 0))  # changed before it
    touch_person(s, p[8], local(11, 2, 9, 0))  # changed after it

    for status in ("open", "open", "done"):
        s.add(Task(house_id=h[1].id, cell_id=x.id, kind="other", status=status))
    # Planned visits (the cycle's unvisited houses, a campaign's) are not backlog: "visited" counts them.
    for source in ("unvisited", "campaign"):
        s.add(Task(house_id=h[2].id, cell_id=x.id, kind="other", status="open", source=source))
    s.add_all([Conflict(kind="field", record_type="house", cell_id=x.id),
               Conflict(kind="field", record_type="house", cell_id=x.id, resolved_at=utcnow()),
               Conflict(kind="field", record_type="house", cell_id=z.id)])
    cycle = Cycle(name="2026-10", kind="month", starts_on=date(2026, 10, 1), ends_on=date(2026, 10, 31))
    s.add(cycle)
    s.commit()
    return SimpleNamespace(s=s, cycle=cycle, cells={"X": x, "Y": y, "Z": z}, committees=(k1, k2), h=h,
                           tasks=2)


def expected(w: SimpleNamespace) -> dict[str, dict[str, int]]:
    return {
        # X: live houses h1 h2 h3 h4 h5 h7 (h6 deleted) = 6. Visited in the cycle: h1, h2, h3,
        # h5 = 4 (h4 only just outside, h7's visit deleted). Scanned: h1, h2, h5 = 3.
        # Unverified: h3 (typed only), h5 (GPS 500 m > 10 + 50) = 2; h2 has a verified visit.
        # Occupied on Oct 31: h1 (p1, p2), h3 (p5) = 2 houses, 3 persons. New: p2. Departed: p3.
        # Changed: p1 and p3 (p5 before, p8 after, and p8 is in Y). Tasks 2 open of 3.
        # Conflicts: 1 open of 2.
        "X": dict(houses=6, visited=4, visited_scanned=3, unverified=2, occupied=2, persons=3, new=1,
                  changed=2, departed=1, open_tasks=w.tasks, open_conflicts=1),
        # Y: h8 h9 h10 = 3; visited h8, h9 (both scanned); h9 too fast after h11 = 1 unverified.
        # p8 lives in h8 (changed in November: not counted).
        "Y": dict(houses=3, visited=2, visited_scanned=2, unverified=1, occupied=1, persons=1, new=0,
                  changed=0, departed=0, open_tasks=0, open_conflicts=0),
        # Z: h11, visited (scanned, first of c2's two): verified. One open conflict.
        "Z": dict(houses=1, visited=1, visited_scanned=1, unverified=0, occupied=0, persons=0, new=0,
                  changed=0, departed=0, open_tasks=0, open_conflicts=1),
    }


def figures(row: Any) -> dict[str, int]:
    return {k: getattr(row, k) for k in FIGURES}


def test_figures_match_the_hand_count(world: SimpleNamespace) -> None:
    report = cycle_coverage(world.s, world.cycle, settings=S)
    assert not report.frozen
    assert [c.cell_code for c in report.cells] == ["X", "Y", "Z"]  # W is deleted
    want = expected(world)
    for c in report.cells:
        assert figures(c) == want[c.cell_code], c.cell_code
    x = report.cells[0]
    assert x.ratio == pytest.approx(4 / 6) and x.committee_name == "甲居委"
    k1, k2 = report.committees
    assert (k1.committee_name, k1.cells, k2.committee_name, k2.cells) == ("甲居委", 2, "乙居委", 1)
    assert figures(k1) == {k: want["X"][k] + want["Y"][k] for k in FIGURES}
    assert figures(k2) == want["Z"]
    assert report.total.houses == 10 and report.total.visited == 7
    assert report.to_dict()["cells"][0]["ratio"] == round(4 / 6, 4)


def test_a_scope_of_cells_gives_the_same_numbers(world: SimpleNamespace) -> None:
    only_y = cycle_coverage(world.s, world.cycle, cell_ids=frozenset({world.cells["Y"].id}), settings=S)
    assert [c.cell_code for c in only_y.cells] == ["Y"]
    # h9 is still "too fast": its predecessor visit (h11) lies in a cell outside the scope.
    assert figures(only_y.cells[0]) == expected(world)["Y"]
    assert [c.committee_name for c in only_y.committees] == ["甲居委"]


def test_unvisited_houses_in_address_order(world: SimpleNamespace) -> None:
    got = unvisited_houses(world.s, world.cycle, world.cells["X"].id)
    assert [h.id for h in got] == [world.h[4].id, world.h[7].id]
    assert [h.id for h in unvisited_houses(world.s, world.cycle, world.cells["Y"].id)] == [world.h[10].id]


def test_closing_freezes_the_figures(world: SimpleNamespace) -> None:
    s, cycle = world.s, world.cycle
    close_cycle(s, cycle, None, settings=S)
    s.commit()
    assert cycle.is_closed
    # Later changes: h10 gets a visit inside the cycle, h1 is deleted, X is renamed.
    c = f.user(s, "late", "coordinator")
    visit(s, world.h[10], c, local(10, 15, 10, 0))
    world.h[1].deleted_at = utcnow()
    world.cells["X"].name = "改名"
    s.commit()
    report = cycle_coverage(s, cycle, settings=S)
    assert report.frozen
    want = expected(world)
    assert {c.cell_code: figures(c) for c in report.cells} == want
    assert report.cells[0].cell_name != "改名"
    only_z = cycle_coverage(s, cycle, cell_ids=frozenset({world.cells["Z"].id}))
    assert [figures(c) for c in only_z.cells] == [want["Z"]]
    with pytest.raises(ValueError):
        close_cycle(s, cycle, None, settings=S)


def test_current_cycle_is_created_once(db_session: Session) -> None:
    s = db_session
    nov = current_cycle(s, date(2026, 11, 26), settings=S)
    assert (nov.name, nov.kind, nov.starts_on, nov.ends_on) == ("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30))
    s.commit()
    assert current_cycle(s, date(2026, 11, 1), settings=S).id == nov.id
    assert current_cycle(s, date(2026, 11, 30), settings=S).id == nov.id
    dec = current_cycle(s, date(2026, 12, 31), settings=S)
    assert (dec.name, dec.ends_on) == ("2026-12", date(2026, 12, 31))
    q = current_cycle(s, date(2026, 11, 26), kind="quarter")
    assert (q.name, q.starts_on, q.ends_on) == ("2026Q4", date(2026, 10, 1), date(2026, 12, 31))
    feb = current_cycle(s, date(2028, 2, 10), settings=S)
    assert feb.ends_on == date(2028, 2, 29)
    s.commit()
    assert len(s.scalars(select(Cycle)).all()) == 4


def test_empty_registry(db_session: Session) -> None:
    cycle = current_cycle(db_session, date(2026, 11, 26), settings=S)
    report = cycle_coverage(db_session, cycle, settings=S)
    assert report.cells == [] and report.committees == [] and report.total.ratio == 0


def test_ids_of_unknown_cells_give_nothing(world: SimpleNamespace) -> None:
    assert cycle_coverage(world.s, world.cycle, cell_ids=frozenset({uuid.uuid4()})).cells == []


def test_cell_route_walks_the_unvisited_houses(world: SimpleNamespace) -> None:
    from geo.route import cell_route

    route = cell_route(world.s, world.cycle, world.cells["X"].id)
    assert [s.house_id for s in route.stops] == [world.h[4].id, world.h[7].id]
    assert route.stops[0].house is world.h[4]
    assert route.total_m == 0  # both stand at the same spot


def test_visits_without_a_coordinator_count_in_and_out_of_scope(world: SimpleNamespace) -> None:
    s = world.s
    s.add(Visit(house_id=world.h[10].id, user_id=None, visited_at=local(10, 20, 10, 0), outcome="verified",
                plate_scanned=False))  # typed by someone unknown: visited, unverified
    s.commit()
    want = {**expected(world)["Y"], "visited": 3, "unverified": 2}
    every = {c.cell_code: figures(c) for c in cycle_coverage(s, world.cycle, settings=S).cells}
    scoped = cycle_coverage(s, world.cycle, cell_ids=frozenset({world.cells["Y"].id}), settings=S)
    assert every["Y"] == want and figures(scoped.cells[0]) == want


def test_house_statuses_match_the_hand_count(world: SimpleNamespace) -> None:
    from geo.house_status import UNVERIFIED, VISITED, house_statuses, unverified_per_cell

    h, cells = world.h, world.cells
    every = house_statuses(world.s, world.cycle, settings=S)
    # Unvisited (absent): h4 (visits just outside the cycle), h7 (visit deleted), h10; and h6,
    # a deleted house, is not judged at all.
    assert {k: every[h[k].id].status for k in h if h[k].id in every} == {
        1: VISITED, 2: VISITED, 3: UNVERIFIED, 5: UNVERIFIED, 8: VISITED, 9: UNVERIFIED, 11: VISITED}
    assert every[h[9].id].cell_id == cells["Y"].id
    # The coverage figures count exactly these answers.
    assert unverified_per_cell(every) == {cells["X"].id: 2, cells["Y"].id: 1}
    # Scoped to Y, h9 stays unverified (its too-fast predecessor is in Z) and nothing else shows.
    only_y = house_statuses(world.s, world.cycle, {cells["Y"].id}, settings=S)
    assert {k: v.status for k, v in only_y.items()} == {h[8].id: VISITED, h[9].id: UNVERIFIED}
    assert house_statuses(world.s, world.cycle, set(), settings=S) == {}


def test_coverage_without_judging_visits_differs_only_in_unverified(world: SimpleNamespace) -> None:
    quick = cycle_coverage(world.s, world.cycle, settings=S, judge_visits=False)
    want = expected(world)
    for c in quick.cells:
        assert figures(c) == {**want[c.cell_code], "unverified": 0}, c.cell_code
