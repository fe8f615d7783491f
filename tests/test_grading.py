"""Quality grading (达标): a fixture committee graded by hand, frozen when its cycle closes."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import valid_id
from webapp.models import Conflict, Cycle, GradeSnapshot, Person, Unit, Visit
from webapp.oversight.grading import close_and_freeze, freeze, grade_cycle, trend
from webapp.oversight.grading.drill import METRICS, drill
from webapp.oversight.grading.score import score
from webapp.registry.rules import RuleSettings
from webapp.registry.tasks import create_task
from webapp.validation import uscc_check_char

TODAY = date(2026, 11, 26)
# Gentler penalties than the defaults, so that one violation among nine records does not
# floor the score at 0 and every number below stays worth checking.
S = RuleSettings(grade_accuracy_penalty=2, grade_backlog_penalty=1)
SH = timezone(timedelta(hours=8))


def at(day: int, hour: int = 10) -> datetime:
    """A moment in November 2026, Shanghai time."""
    return datetime(2026, 11, day, hour, tzinfo=SH)


@pytest.fixture
def world(db_session: Session) -> SimpleNamespace:
    s = db_session
    com_a, com_b = f.committee(s, name="甲居委"), f.committee(s, name="乙居委")
    ca, cb = f.cell(s, com_a), f.cell(s, com_b)
    where = {"lon": 121.23, "lat": 31.03}
    h1 = f.house(s, ca, use="owner_occupied", floor_area=80.0, living_area=50.0, **where)
    h2 = f.house(s, ca, use="rented", floor_area=60.0, living_area=40.0, **where)
    h3 = f.house(s, ca, use="idle", floor_area=70.0, living_area=None, **where)  # living area missing
    h4 = f.house(s, ca, use="commercial", floor_area=30.0, **where)  # a shop: no living area needed
    f.house(s, cb, use="owner_occupied", floor_area=90.0, living_area=60.0, **where)  # committee B's one house
    home = {"hukou_road": h1.road, "hukou_number": h1.number, "hukou_building": h1.building, "hukou_room": h1.room}
    p1 = f.person(s, "户一", valid_id("31011719700101123"), phone="13800000001", category="huji",
                  hukou_region="310117", **home)
    p2 = f.person(s, "户二", valid_id("31011719720202124"), phone="13800000002", category="huji",
                  hukou_region="310117", **home)
    p3 = f.person(s, "来三", valid_id("34010219900303125"), phone="13800000003")  # hukou region missing
    p4 = f.person(s, "来四", valid_id("34010219910404126"), hukou_region="340102")  # adult, no phone
    f.residency(s, p1, h1, relation="owner")
    f.residency(s, p2, h1, relation="family")
    # Moved in on 10 Nov, found by the visit of 12 Nov, recorded on 25 Nov: 13 days, late.
    f.residency(s, p3, h2, start_date=date(2026, 11, 10), changed_at=at(25))
    # Moved in on 20 Nov, found by the visit of 21 Nov, recorded on 22 Nov: on time.
    f.residency(s, p4, h2, start_date=date(2026, 11, 20), changed_at=at(22))
    code = "91310117MA1GR0000"
    s.add(Unit(name="小店", uscc=code + uscc_check_char(code), house_id=h4.id))
    s.add_all([
        Visit(house_id=h1.id, visited_at=at(5), outcome="verified", plate_scanned=False),
        Visit(house_id=h2.id, visited_at=at(12), outcome="verified", plate_scanned=True),
        Visit(house_id=h2.id, visited_at=at(21), outcome="verified", plate_scanned=False),
        Visit(house_id=h3.id, visited_at=datetime(2026, 7, 1, 10, tzinfo=SH), outcome="vacant"),  # 148 days ago
    ])
    create_task(s, h3, "moved_in", "有人搬来")
    s.add(Conflict(kind="field", record_type="house", record_id=h2.id, house_id=h2.id, cell_id=ca.id,
                   committee_id=com_a.id))
    cycle = Cycle(name="2026-11", kind="month", starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 30))
    s.add(cycle)
    s.flush()
    return SimpleNamespace(a=com_a, b=com_b, ca=ca, cb=cb, p4=p4, h3=h3, cycle=cycle)


def test_the_fixture_committee_graded_by_hand(db_session: Session, world: SimpleNamespace) -> None:
    report = grade_cycle(db_session, world.cycle, today=TODAY, settings=S)
    a = next(r for r in report.rows if r.committee_id == world.a.id)
    c = a.scored.counts
    # Records: 4 persons living there, 4 houses, 1 unit = 9.
    assert (c["persons"], c["houses"], c["units"], c["records"]) == (4, 4, 1, 9)
    # Required fields: persons 4 × (name, ID, sex, birth, hukou region) = 20, houses 2 + 2 + 2 + 1
    # (the shop needs no living area) = 7, the unit 2: 29. Missing: 来三's hukou region and
    # h3's living area, so 27 are filled.
    assert (c["fields_required"], c["fields_filled"]) == (29, 27)
    # One violation: 来四, an adult without a phone.
    assert c["violations"] == 1
    # Two moves in the cycle, one recorded late; h1 and h2 visited within 90 days of 26 Nov
    # (h3's last visit was on 1 Jul).
    assert (c["changes"], c["late_changes"], c["houses_recent"]) == (2, 1, 2)
    # Coverage from geo.coverage: h1 and h2 visited this cycle, h2 with its plate scanned.
    assert (c["cov_houses"], c["visited"], c["visited_scanned"]) == (4, 2, 1)
    assert (c["open_tasks"], c["open_conflicts"]) == (1, 1)
    s = a.scored.scores
    assert s["completeness"] == pytest.approx(93.1, abs=0.05)  # 27 / 29 = 93.10 %
    assert s["accuracy"] == pytest.approx(77.8, abs=0.05)  # 100 − 2 × (1 / 9 × 100 = 11.11)
    assert s["timeliness"] == 50.0  # (on time 1/2 = 50 % + visited recently 2/4 = 50 %) / 2
    assert s["coverage"] == 37.5  # (visited 2/4 = 50 % + scanned 1/4 = 25 %) / 2
    assert s["backlog"] == 50.0  # 100 − 1 × ((1 task + 1 conflict) / 4 houses × 100 = 50)
    # (25 × 93.10 + 25 × 77.78 + 20 × 50 + 20 × 37.5 + 10 × 50) / 100 = 65.22 → 65.2: 合格.
    assert (a.score, a.grade) == (65.2, "pass")


def test_the_other_committee_and_the_subdistrict(db_session: Session, world: SimpleNamespace) -> None:
    report = grade_cycle(db_session, world.cycle, today=TODAY, settings=S)
    b = next(r for r in report.rows if r.committee_id == world.b.id)
    # One house, nobody in it, never visited: (25 × 100 + 25 × 100 + 20 × (100 + 0) / 2 + 20 × 0
    # + 10 × 100) / 100 = 70.0.
    assert (b.scored.counts["records"], b.score, b.grade) == (1, 70.0, "pass")
    t = report.total.scored
    # Both together: 29/31 fields, 1 violation in 10 records, 2 of 5 houses recent, 2 visited,
    # 1 scanned: (25 × 93.55 + 25 × 80 + 20 × 45 + 20 × 30 + 10 × 60) / 100 = 64.39 → 64.4.
    assert (t.counts["records"], t.counts["fields_filled"], t.counts["fields_required"]) == (10, 29, 31)
    assert (report.total.score, report.total.grade) == (64.4, "pass")


def test_thresholds_decide_on_the_rounded_score() -> None:
    counts = {"houses": 1, "cov_houses": 1, "visited": 1, "visited_scanned": 1, "houses_recent": 1, "records": 1}
    assert score(counts, RuleSettings()).score == 100.0
    assert score(counts, RuleSettings()).grade == "excellent"
    nearly = {**counts, "visited_scanned": 0}  # coverage 50: 100 − 20 × 50 / 100 = 90.0
    assert (score(nearly, RuleSettings()).score, score(nearly, RuleSettings()).grade) == (90.0, "excellent")
    assert score(nearly, RuleSettings(grade_thresholds="90.1,80,60")).grade == "good"
    assert score({}, RuleSettings()).grade is None  # nothing to grade


def test_a_closed_cycle_keeps_its_grades(db_session: Session, world: SimpleNamespace) -> None:
    s = db_session
    close_and_freeze(s, world.cycle, None, today=TODAY, settings=S)
    frozen = grade_cycle(s, world.cycle, today=TODAY, settings=S)
    a = next(r for r in frozen.rows if r.committee_id == world.a.id)
    assert frozen.frozen and (a.score, a.grade) == (65.2, "pass")
    # Later corrections and retuned thresholds change nothing in the closed cycle.
    world.p4.set_phone("13800000004")
    s.flush()
    again = grade_cycle(s, world.cycle, today=TODAY, settings=RuleSettings(grade_thresholds="99,98,97"))
    assert next(r.score for r in again.rows if r.committee_id == world.a.id) == 65.2
    assert again.total.score == 64.4
    # Only once.
    with pytest.raises(ValueError):
        freeze(s, world.cycle, None, today=TODAY, settings=S)
    rows = s.scalars(select(GradeSnapshot).where(GradeSnapshot.cycle_id == world.cycle.id)).all()
    assert {r.committee_key for r in rows} == {str(world.a.id), str(world.b.id), "*"}
    # A committee's own view of a frozen cycle is its row.
    mine = grade_cycle(s, world.cycle, today=TODAY, cell_ids=frozenset({world.ca.id}))
    assert [r.committee_id for r in mine.rows] == [world.a.id] and mine.total.score == 65.2
    # The trend lists the closed cycle.
    ((cycle, grades),) = trend(s, [world.a.id, None])
    assert cycle.id == world.cycle.id and grades == {world.a.id: ("pass", 65.2), None: ("pass", 64.4)}


def test_drill_down_lists_the_records_behind_each_number(db_session: Session, world: SimpleNamespace) -> None:
    cells = frozenset({world.ca.id})

    def records(metric: str) -> list[str]:
        return sorted(fl.kind for fl in drill(db_session, metric, world.cycle, today=TODAY, settings=S,
                                              cell_ids=cells))

    assert set(METRICS) == {"incomplete", "violations", "late", "changes", "stale", "unvisited", "unscanned",
                            "tasks", "conflicts", "reviews"}
    assert records("incomplete") == ["house", "person"]  # h3's living area, 来三's hukou region
    assert records("violations") == ["no_phone"]
    assert records("late") == ["arrival"]
    assert records("changes") == ["arrival", "arrival"]
    assert len(records("stale")) == 2 and len(records("unvisited")) == 2  # h3, h4
    assert len(records("unscanned")) == 1  # h1: visited, never scanned
    assert records("tasks") == ["moved_in"] and records("conflicts") == ["field"] and records("reviews") == []
    late = drill(db_session, "late", world.cycle, today=TODAY, settings=S, cell_ids=cells)[0]
    assert late.en == ("Moved in on 2026-11-10; found by the visit on 2026-11-12, recorded 13 days later "
                       "(within 7 days expected)")
    # Another committee's cells show none of it.
    assert drill(db_session, "violations", world.cycle, today=TODAY, settings=S,
                 cell_ids=frozenset({world.cb.id})) == []


def test_persons_are_counted_where_they_live(db_session: Session, world: SimpleNamespace) -> None:
    # A tombstoned person is no longer counted anywhere.
    p = db_session.scalars(select(Person).where(Person.name == "来三")).one()
    p.deleted_at = datetime(2026, 11, 25, tzinfo=timezone.utc)
    db_session.flush()
    report = grade_cycle(db_session, world.cycle, today=TODAY, settings=S)
    a = next(r for r in report.rows if r.committee_id == world.a.id)
    assert a.scored.counts["persons"] == 3


def test_violations_counted_in_one_pass_are_the_rules_error_findings(db_session: Session,
                                                                     world: SimpleNamespace) -> None:
    from webapp.registry.rules import evaluate

    s = db_session
    h = f.house(s, world.ca, floor_area=50.0, living_area=30.0, lon=121.2, lat=31.0)
    wrong = f.person(s, "错址", valid_id("31011719800101131"), phone="13800000009", category="huji",
                     hukou_region="310117", hukou_road="别的路", hukou_number="1", hukou_building="1")
    f.residency(s, wrong, h)
    baby = f.person(s, "新生", valid_id("31011720250601142"), phone="13800000010", hukou_region="310117")
    f.residency(s, baby, h, start_date=date(2025, 5, 1))  # recorded as moving in before birth
    s.flush()
    report = grade_cycle(s, world.cycle, today=TODAY, settings=S)
    a = next(r for r in report.rows if r.committee_id == world.a.id)
    flags = evaluate(s, today=TODAY, settings=S, cell_ids=frozenset({world.ca.id}), errors_only=True)
    assert sorted(fl.kind for fl in flags) == ["birth_date", "no_phone", "should_be_separated"]
    assert a.scored.counts["violations"] == len(flags) == 3


def test_flask_cycle_close_freezes_the_grades_too(runner, db_session: Session, world: SimpleNamespace) -> None:  # type: ignore[no-untyped-def]
    from webapp.oversight.grading.figures import completeness

    s = db_session
    s.commit()  # the command works in its own session
    result = runner.invoke(args=["cycle", "close", world.cycle.name])
    assert result.exit_code == 0, result.output
    s.rollback()
    keys = {r.committee_key for r in s.scalars(select(GradeSnapshot).where(GradeSnapshot.cycle_id == world.cycle.id))}
    assert keys == {str(world.a.id), str(world.b.id), "*"}

    def shown() -> list[tuple[object, ...]]:
        report = grade_cycle(s, world.cycle, today=TODAY, settings=S)
        assert report.frozen
        return [(r.committee_id, r.score, r.grade, r.scored.counts) for r in [*report.rows, report.total]]

    before = shown()
    # Corrections after the close: h3 gets its living area, 来四 a phone, h3 a visit in the cycle.
    s.get(type(world.h3), world.h3.id).living_area = 45.0
    world.p4.set_phone("13800000004")
    s.add(Visit(house_id=world.h3.id, visited_at=at(27), outcome="verified", plate_scanned=True))
    s.commit()
    assert shown() == before
    # ...which the live figures do see, so the frozen ones were not merely unchanged by chance.
    live: dict = {}
    completeness(s, frozenset({world.ca.id}), live)
    frozen_a = next(counts for cid, _, _, counts in before if cid == world.a.id)
    assert live[world.ca.id]["fields_filled"] == frozen_a["fields_filled"] + 1
