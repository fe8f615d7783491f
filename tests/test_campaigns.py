"""Key-area campaigns (issue 9): the area (cells or a drawn polygon) against a brute-force
check, tasks generated once per house, progress on a hand-made fixture, and close freezing
the figures."""
from __future__ import annotations

import random
from datetime import date, datetime, timezone

import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.area import houses_in_area, read_polygon
from geo.settings import GeoSettings
from tests import factories as f
from webapp.models import Campaign, Cycle, Task, Visit
from webapp.oversight.tasks.campaigns import (CampaignError, close_campaign, generate_tasks, live_progress,
                                             open_campaign, progress, touches)
from webapp.registry.tasks import close_task

# An L-shaped (concave) plaza around 121.30 E, 31.00 N, about 200 m across.
PLAZA = {"type": "Polygon", "coordinates": [[
    [121.300, 31.000], [121.302, 31.000], [121.302, 31.001], [121.301, 31.001],
    [121.301, 31.002], [121.300, 31.002], [121.300, 31.000]]]}
START, DUE = date(2026, 11, 2), date(2026, 11, 20)


def _utc(month: int, day: int, hour: int = 4) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=timezone.utc)


# --- The area ---------------------------------------------------------------------------------

def test_a_drawn_polygon_is_checked_like_a_cell_boundary() -> None:
    boundary, problems = read_polygon(PLAZA)
    assert problems == [] and boundary is not None and boundary["type"] == "Polygon"
    # A Feature, a one-feature collection and JSON text are read the same.
    for wrapped in ({"type": "Feature", "properties": {}, "geometry": PLAZA},
                    {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": PLAZA}]}):
        assert read_polygon(wrapped)[0] == boundary
    assert read_polygon(__import__("json").dumps(PLAZA))[0] == boundary

    def refused(data: object, kind: str) -> None:
        got, problems = read_polygon(data)  # type: ignore[arg-type]
        assert got is None and [p.kind for p in problems] == [kind]
        assert all(p.message_zh and p.message_en and p.message_zh != p.message_en for p in problems)

    bowtie = {"type": "Polygon", "coordinates": [[[121.3, 31.0], [121.301, 31.001], [121.301, 31.0],
                                                  [121.3, 31.001], [121.3, 31.0]]]}
    refused(bowtie, "invalid_polygon")
    assert read_polygon(bowtie)[1][0].point is not None  # where it crosses itself
    huge = {"type": "Polygon", "coordinates": [[[121.0, 31.0], [121.2, 31.0], [121.2, 31.2], [121.0, 31.0]]]}
    refused(huge, "too_large")
    assert "km²" in read_polygon(huge)[1][0].message_en and "区域" in read_polygon(huge)[1][0].message_zh
    refused("", "empty")
    refused("{not json", "not_json")
    refused({"type": "MultiPolygon", "coordinates": []}, "not_one_polygon")
    refused({"type": "FeatureCollection", "features": []}, "not_one_polygon")
    refused({"type": "Polygon", "coordinates": [[[121.3, 31.0], [121.31, 31.0], [121.3, 31.01]]]}, "bad_coordinates")
    refused({"type": "Polygon", "coordinates": [[[31.0, 121.3], [31.0, 121.31], [31.01, 121.3], [31.0, 121.3]]]},
            "out_of_range")
    # The limit is the cells' setting.
    small = GeoSettings(cell_max_area_km2=0.01)
    assert read_polygon(PLAZA, small)[1][0].kind == "too_large"


def test_houses_in_a_polygon_match_a_brute_force_point_check(db_session: Session) -> None:
    s = db_session
    cell = f.cell(s)
    rng = random.Random(9)
    houses = []
    for _ in range(400):
        lon, lat = 121.2995 + rng.random() * 0.003, 30.9995 + rng.random() * 0.003
        houses.append(f.house(s, cell if rng.random() < 0.8 else None, lon=round(lon, 6), lat=round(lat, 6)))
    # On the edge and on a vertex: in (covers); no location: never in; deleted: not live.
    houses.append(f.house(s, cell, lon=121.301, lat=31.0015))
    houses.append(f.house(s, cell, lon=121.302, lat=31.000))
    f.house(s, cell)
    gone = f.house(s, cell, lon=121.3005, lat=31.0005, deleted_at=_utc(11, 1))
    s.flush()

    got = houses_in_area(s, boundary=read_polygon(PLAZA)[0])
    shape = shapely.Polygon(PLAZA["coordinates"][0])
    expected = {(h.id, h.cell_id) for h in houses if shape.covers(shapely.Point(h.lon, h.lat))}
    assert set(got) == expected and len(got) == len(expected)
    assert 100 < len(expected) < 400  # the fixture has houses on both sides
    assert houses[-2].id in {h for h, _c in got} and houses[-1].id in {h for h, _c in got}
    assert gone.id not in {h for h, _c in got}


def test_houses_in_cells_are_the_live_houses_placed_in_them(area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    a1, b1 = area.cells["A1"], area.cells["B1"]
    extra = f.house(s, a1)
    f.house(s, a1, deleted_at=_utc(11, 1))
    got = set(houses_in_area(s, cell_ids={a1.id, b1.id}))
    assert got == {(area.houses["A1"].id, a1.id), (extra.id, a1.id), (area.houses["B1"].id, b1.id)}
    assert houses_in_area(s, cell_ids=set()) == []


# --- Opening: tasks ---------------------------------------------------------------------------

def _open(s: Session, area, **kw):  # type: ignore[no-untyped-def]
    args = {"name": "万达广场排查", "starts_on": START, "due_on": DUE, "by_user_id": area.users["centre"].id,
            "cell_ids": {area.cells["A1"].id, area.cells["A2"].id}, **kw}
    return open_campaign(s, **args)


def test_opening_makes_one_task_per_house_and_regenerating_makes_none(area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    campaign, opened = _open(s, area)
    assert (opened.made, opened.houses, opened.unplaced) == (2, 2, 0)
    tasks = list(s.scalars(select(Task).where(Task.source == "campaign").order_by(Task.cell_id)))
    by_house = {t.house_id: t for t in tasks}
    assert set(by_house) == {area.houses["A1"].id, area.houses["A2"].id}
    a1_task = by_house[area.houses["A1"].id]
    assert a1_task.origin_key == f"campaign:{campaign.id}:{area.houses['A1'].id}"
    assert (a1_task.due_on, a1_task.status, a1_task.cell_id) == (DUE, "open", area.cells["A1"].id)
    # The usual default: A1 has one coordinator, A2 none.
    assert a1_task.assignee_id == area.users["coordinator"].id
    assert by_house[area.houses["A2"].id].assignee_id is None
    assert "万达广场排查" in a1_task.text and "2026-11-20" in a1_task.text

    assert generate_tasks(s, campaign).made == 0
    # A house added to the area later is picked up; a task closed meanwhile does not come back.
    close_task(a1_task, "done", "核查无变化", area.users["coordinator"].id, result="no_change")
    new = f.house(s, area.cells["A2"])
    again = generate_tasks(s, campaign)
    assert again.made == 1 and again.houses == 3
    assert s.scalar(select(func.count()).select_from(Task).where(Task.house_id == new.id)) == 1
    assert generate_tasks(s, campaign).made == 0
    # A campaign is never a collection cycle: coverage and grading read `cycle` only.
    assert s.scalar(select(func.count()).select_from(Cycle)) == 0


def test_a_polygon_campaign_skips_houses_in_no_cell(area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    inside = f.house(s, area.cells["B1"], lon=121.3005, lat=31.0005)
    loose = f.house(s, None, lon=121.3006, lat=31.0006)
    f.house(s, area.cells["B1"], lon=121.3015, lat=31.0015)  # in the L's notch: outside
    campaign, opened = _open(s, area, cell_ids=set(), boundary=read_polygon(PLAZA)[0])
    assert (opened.made, opened.houses, opened.unplaced) == (1, 2, 1)
    assert s.scalars(select(Task.house_id).where(Task.source == "campaign")).all() == [inside.id]
    p = live_progress(s, campaign)
    assert [(c.cell_id, c.houses, c.tasks) for c in p.cells] == [(area.cells["B1"].id, 1, 1), (None, 1, 0)]
    # A scope sees only its cells (and never the houses in no cell).
    assert live_progress(s, campaign, frozenset({area.cells["A1"].id})).cells == []
    assert touches(s, campaign, frozenset({area.cells["B1"].id}))
    assert not touches(s, campaign, frozenset({area.cells["A1"].id}))
    assert loose.id


@pytest.mark.parametrize("kw, en", [
    ({"name": "  "}, "Give the campaign a name"),
    ({"due_on": date(2026, 11, 1)}, "before the start date"),
    ({"cell_ids": set()}, "Choose cells or draw an area"),
    ({"boundary": PLAZA}, "Choose cells or draw an area"),
])
def test_opening_refuses_what_cannot_be_run(area, db_session: Session, kw, en) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CampaignError) as err:
        _open(db_session, area, **kw)
    assert en in err.value.en and err.value.zh


def test_a_name_is_used_once(area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    _open(db_session, area)
    with pytest.raises(CampaignError, match="same name|of that name"):
        _open(db_session, area)


# --- Progress and close ----------------------------------------------------------------------

def test_progress_on_a_hand_made_fixture_and_close_freezes_it(area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    a1, a2 = area.cells["A1"], area.cells["A2"]
    coord = area.users["coordinator"]
    h = {"A1": area.houses["A1"], "A1b": f.house(s, a1), "A1c": f.house(s, a1), "A2": area.houses["A2"]}
    campaign, _opened = _open(s, area)

    def visit(key: str, at: datetime, scanned: bool = False, **kw: object) -> Visit:
        v = Visit(house_id=h[key].id, user_id=coord.id, visited_at=at, outcome="verified", plate_scanned=scanned, **kw)
        s.add(v)
        s.flush()
        return v

    visit("A1", _utc(11, 1, 15), scanned=True)  # 23:00 on 1 Nov local: before the start
    visit("A1", _utc(11, 1, 16))                 # 00:00 on 2 Nov local: counts, not scanned
    visit("A1b", _utc(11, 5), scanned=True)
    visit("A1b", _utc(11, 6))                    # twice: one house
    visit("A2", _utc(11, 7), deleted_at=_utc(11, 8))  # deleted: not a visit
    tasks = {t.house_id: t for t in s.scalars(select(Task).where(Task.source == "campaign"))}
    close_task(tasks[h["A1"].id], "done", "登记了新住户", coord.id, result="changed")
    close_task(tasks[h["A1b"].id], "done", "查无此人", coord.id, result="not_found")

    p = live_progress(s, campaign, now=_utc(11, 10))
    rows = {c.cell_id: c for c in p.cells}
    assert rows[a1.id].figures() == {"houses": 3, "visited": 2, "visited_scanned": 1, "tasks": 3, "tasks_open": 1,
                                     "tasks_closed": 2, "changed": 1, "no_change": 0, "not_found": 1, "duplicate": 0}
    assert rows[a2.id].figures() == {"houses": 1, "visited": 0, "visited_scanned": 0, "tasks": 1, "tasks_open": 1,
                                     "tasks_closed": 0, "changed": 0, "no_change": 0, "not_found": 0, "duplicate": 0}
    assert (rows[a1.id].cell_code, rows[a1.id].committee_name) == (a1.code, "甲居委")
    assert p.total.houses == 4 and p.total.visited == 2 and not p.frozen
    # A lead's scope: its cells only.
    assert [c.cell_id for c in live_progress(s, campaign, frozenset({a2.id})).cells] == [a2.id]

    frozen = close_campaign(s, campaign, area.users["centre"].id, now=_utc(11, 10))
    s.commit()
    assert frozen.frozen and campaign.is_closed and campaign.closed_by_id == area.users["centre"].id
    before = {c.cell_id: c.figures() for c in frozen.cells}
    assert before == {c.cell_id: c.figures() for c in p.cells}
    # Later visits, tasks closing and new houses change nothing once frozen.
    visit("A2", _utc(11, 12), scanned=True)
    close_task(tasks[h["A2"].id], "done", "无变化", coord.id, result="no_change")
    f.house(s, a2)
    s.commit()
    s.expire_all()
    again = progress(s, s.get(Campaign, campaign.id))  # type: ignore[arg-type]
    assert again.frozen and {c.cell_id: c.figures() for c in again.cells} == before
    assert again.as_of == _utc(11, 10)
    assert [c.cell_id for c in progress(s, campaign, frozenset({a1.id})).cells] == [a1.id]
    # The open task stays with the coordinators; nothing more is generated; a second close is refused.
    assert s.get(Task, tasks[h["A1c"].id].id).status == "open"  # type: ignore[union-attr]
    with pytest.raises(CampaignError):
        generate_tasks(s, campaign)
    with pytest.raises(CampaignError):
        close_campaign(s, campaign, None)


def test_two_closes_at_one_moment_close_once(area, db_session: Session, engine) -> None:  # type: ignore[no-untyped-def]
    """Both read the campaign open (PostgreSQL; SQLite runs one writer at a time): the one
    whose close lands second is refused, not a second close with its figures."""
    s = db_session
    if s.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: the second close reads the first")
    campaign, _opened = _open(s, area)
    s.commit()
    assert not campaign.is_closed  # this session's copy, as a second request read it
    with engine.begin() as other:  # the first request's close, committed meanwhile
        other.execute(Campaign.__table__.update().where(Campaign.id == campaign.id).values(closed_at=_utc(11, 9)))
    with pytest.raises(CampaignError):
        close_campaign(s, campaign, area.users["centre"].id, now=_utc(11, 10))
    s.rollback()
    assert s.get(Campaign, campaign.id).closed_at == _utc(11, 9)  # type: ignore[union-attr]
