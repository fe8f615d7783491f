"""The coordinators' work per cycle (computed by hand for a small world), frozen when the
cycle closes, summed in the year's roll-up, scoped to the viewer's cells, exported."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import login
from webapp.models import AuditEntry, Conflict, CoordinatorSnapshot, Cycle, Review, Task, Visit
from webapp.oversight import coordinators
from webapp.oversight.grading import close_and_freeze
from webapp.registry.rules import RuleSettings
from webapp.base.timeutil import local_today, utcnow

TODAY = local_today()


@pytest.fixture
def world(db_session: Session) -> SimpleNamespace:
    s = db_session
    now = utcnow()
    com_a, com_b = f.committee(s, name="甲居委"), f.committee(s, name="乙居委")
    lead = f.user(s, "lead", "grid_lead")
    ca, cb = f.cell(s, com_a, grid_lead_id=lead.id), f.cell(s, com_b)
    c1, c2 = f.user(s, "xg1", "coordinator", display_name="协一"), f.user(s, "xg2", "coordinator")
    ca.coordinators.append(c1)
    cb.coordinators.append(c2)
    # Two houses about 1 km apart, and one without a position.
    h1 = f.house(s, ca, lon=121.230, lat=31.030)
    h2 = f.house(s, ca, lon=121.240, lat=31.030)
    h3 = f.house(s, ca)
    hb = f.house(s, cb, lon=121.3, lat=31.1)
    start = now - timedelta(hours=3)
    s.add_all([
        # At the house, scanned: verified.
        Visit(house_id=h1.id, user_id=c1.id, visited_at=start, outcome="verified", plate_scanned=True,
              lon=121.230, lat=31.030, accuracy_m=10),
        # A kilometre in one minute: too fast, though scanned and at the house.
        Visit(house_id=h2.id, user_id=c1.id, visited_at=start + timedelta(minutes=1), outcome="verified",
              plate_scanned=True, lon=121.240, lat=31.030, accuracy_m=10),
        # Typed, no GPS: unverified.
        Visit(house_id=h3.id, user_id=c1.id, visited_at=start + timedelta(hours=2), outcome="no_answer",
              plate_scanned=False),
        # A second visit to h1, scanned but the GPS 500 m away.
        Visit(house_id=h1.id, user_id=c1.id, visited_at=start + timedelta(hours=2, minutes=30), outcome="verified",
              plate_scanned=True, lon=121.2352, lat=31.030, accuracy_m=20),
        Visit(house_id=hb.id, user_id=c2.id, visited_at=start, outcome="verified", plate_scanned=True),
    ])
    # c1 registers a person and corrects house h1 (versions in the change log by c1).
    person = f.person(s, name="新来", changed_by_id=c1.id)
    res = f.residency(s, person, h1)
    s.commit()
    h1.note = "门牌脱落"
    h1.changed_by_id = c1.id
    s.add(Conflict(kind="field", record_type="house", record_id=h2.id, house_id=h2.id, cell_id=ca.id,
                   committee_id=com_a.id, user_id=c1.id))
    s.add(Review(house_id=h1.id, cell_id=ca.id, residency_id=res.id, person_id=person.id, kind="registration",
                 status="returned", reason="缺合同", submitted_by_id=c1.id, decided_by_id=lead.id, decided_at=now))
    for due in (TODAY + timedelta(days=1), TODAY - timedelta(days=1)):
        s.add(Task(house_id=h2.id, cell_id=ca.id, kind="problem", status="done", result="no_change", closed_at=now,
                  closed_by_id=c1.id, due_on=due))
    cycle = Cycle(name="本期", starts_on=TODAY - timedelta(days=10), ends_on=TODAY + timedelta(days=10))
    s.add(cycle)
    s.commit()
    return SimpleNamespace(c1=c1, c2=c2, ca=ca, cb=cb, lead=lead, h3=h3, cycle=cycle)


C1 = {"visits": 4, "houses": 3, "scanned": 3, "gps_verified": 2, "unverified": 3, "created": 1, "changed": 1,
      "conflicts": 1, "returned": 1, "tasks_closed": 2, "tasks_on_time": 1}


def test_figures_by_hand(db_session: Session, world: SimpleNamespace) -> None:
    report = coordinators.report(db_session, world.cycle, None)
    rows = {r.username: r for r in report.rows}
    assert set(rows) == {"xg1", "xg2"} and not report.frozen
    assert rows["xg1"].counts == C1
    assert rows["xg2"].counts == {**dict.fromkeys(C1, 0), "visits": 1, "houses": 1, "scanned": 1}
    assert report.total["visits"] == 5


def test_a_lead_sees_the_coordinators_of_their_cells(db_session: Session, world: SimpleNamespace) -> None:
    report = coordinators.report(db_session, world.cycle, frozenset({world.ca.id}))
    assert [r.username for r in report.rows] == ["xg1"]


def test_frozen_with_the_cycle_and_summed_in_the_year(db_session: Session, world: SimpleNamespace) -> None:
    close_and_freeze(db_session, world.cycle, None, today=TODAY, settings=RuleSettings())
    db_session.commit()
    assert len(db_session.scalars(select(CoordinatorSnapshot)).all()) == 2
    # Later work in the cycle's days changes the live figures, not the frozen ones.
    db_session.add(Visit(house_id=world.h3.id, user_id=world.c1.id, visited_at=utcnow(), outcome="verified",
                         plate_scanned=True))
    db_session.commit()
    frozen = coordinators.report(db_session, world.cycle, None)
    assert frozen.frozen and {r.username: r.counts for r in frozen.rows}["xg1"] == C1
    assert {r.username: r.counts for r in coordinators.live(db_session, world.cycle)}["xg1"]["visits"] == 5
    cycles, rows = coordinators.year(db_session, world.cycle.starts_on.year, None)
    assert [c.name for c in cycles] == ["本期"]
    assert {r.username: r.counts for r in rows}["xg1"] == C1


def test_the_page_and_its_export(client, db_session: Session, world: SimpleNamespace) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead")
    html = client.get(f"/reports/coordinators?cycle={world.cycle.id}").get_data(as_text=True)
    assert 'data-user="xg1"' in html and 'data-user="xg2"' not in html
    assert '<td class="num" data-key="scanned_pct">75.0%</td>' in html  # 3 of 4 visits
    assert '<td class="num" data-key="on_time_pct">50.0%</td>' in html
    response = client.get(f"/reports/coordinators.csv?cycle={world.cycle.id}")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[2][:4] == ["xg1", "协一", "3", "4"] and rows[-1][0] in ("合计", "Total")
    db_session.rollback()
    [entry] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "export_report")).all()
    assert entry.detail["report"] == "coordinators" and entry.detail["frozen"] is False
    # The year's page: the cycle is still open, so nothing is rolled up yet.
    year = client.get(f"/reports/year/{world.cycle.starts_on.year}").get_data(as_text=True)
    assert 'data-user="xg1"' not in year
    assert client.get("/reports/year/1999").status_code == 404
