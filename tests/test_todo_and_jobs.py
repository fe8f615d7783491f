"""The console home's to-do panel (open tasks, reviews and conflicts with due and overdue
counts) and the warning when a daily job has not run for two days."""
from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import login
from webapp.models import AuditEntry, Conflict, Review, Task
from webapp.oversight import jobs
from webapp.oversight.todo import todo
from webapp.registry.scope import scope_for
from webapp.base.timeutil import local_today, utcnow

TODAY = local_today()


@pytest.fixture
def work(area, db_session: Session):  # type: ignore[no-untyped-def]
    """In cell A1: a task overdue, one due tomorrow, one for next month, one assigned to someone
    else, one closed; in B1 one overdue. A pending review in A1, waiting 9 days; one returned
    to the coordinator. A conflict of the coordinator's phone in A1, 8 days old."""
    s = db_session
    h, hb = area.houses["A1"], area.houses["B1"]
    coord = area.users["coordinator"]
    for due, kw in ((TODAY - timedelta(days=1), {}), (TODAY + timedelta(days=1), {}),
                    (TODAY + timedelta(days=30), {}), (TODAY - timedelta(days=3), {"assignee_id": area.users["grid_lead"].id}),
                    (TODAY - timedelta(days=3), {"status": "done"})):
        s.add(Task(house_id=h.id, cell_id=h.cell_id, kind="problem", due_on=due, **kw))
    s.add(Task(house_id=hb.id, cell_id=hb.cell_id, kind="problem", due_on=TODAY - timedelta(days=1)))
    person, res = area.persons["A1"], area.persons["A1"].residencies[0]
    s.add(Review(house_id=h.id, cell_id=h.cell_id, residency_id=res.id, person_id=person.id, kind="registration",
                 submitted_by_id=coord.id, created_at=utcnow() - timedelta(days=9)))
    s.add(Review(house_id=h.id, cell_id=h.cell_id, residency_id=res.id, person_id=person.id, kind="move_out",
                 status="returned", reason="补充", submitted_by_id=coord.id, decided_at=utcnow()))
    s.add(Conflict(kind="field", record_type="house", record_id=h.id, house_id=h.id, cell_id=h.cell_id,
                   user_id=coord.id, created_at=utcnow() - timedelta(days=8)))
    s.commit()
    return area


# role → {kind: (open, due soon, overdue)}
EXPECTED = {
    "coordinator": {"tasks": (3, 1, 1), "returned": (1, 0, 0), "conflicts": (1, 0, 1)},
    "grid_lead": {"tasks": (4, 1, 2), "reviews": (1, 0, 1), "conflicts": (1, 0, 1)},
    "centre": {"tasks": (5, 1, 3), "reviews": (1, 0, 1), "conflicts": (1, 0, 1)},
    "police": {},
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_todo_counts_per_role(db_session: Session, work, role: str) -> None:  # type: ignore[no-untyped-def]
    user = work.users[role]
    found = todo(db_session, user, scope_for(db_session, user), TODAY, utcnow())
    assert {t.kind: (t.open, t.due, t.overdue) for t in found} == EXPECTED[role]


def test_the_home_shows_the_panel(client, work) -> None:  # type: ignore[no-untyped-def]
    login(client, "coord")
    html = client.get("/").get_data(as_text=True)
    assert re.search(r"<strong>3</strong> 项待办任务", html) and "1 项已逾期" in html and "1 项即将到期" in html
    assert "条被退回待您处理" in html and "/tasks?assignee=me" in html
    assert "每日任务" not in html  # job warnings are the centre's


def test_the_centre_is_warned_until_every_daily_job_has_run(client, runner, area, db_session, database_url,
                                                             tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    html = client.get("/").get_data(as_text=True)
    assert "以下每日任务已超过两天未运行" in html and html.count("从未运行") == 3
    assert runner.invoke(args=["tasks", "escalate"]).exit_code == 0
    assert runner.invoke(args=["purge-tombstones"]).exit_code == 0
    html = client.get("/").get_data(as_text=True)
    assert html.count("从未运行") == 1 and "scripts/backup.sh backup" in html
    out = subprocess.run(["bash", "scripts/backup.sh", "backup", str(tmp_path / "b.dump"), "--url", database_url],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "以下每日任务已超过两天未运行" not in client.get("/").get_data(as_text=True)
    db_session.rollback()
    assert {e.object_id for e in db_session.scalars(select(AuditEntry).where(AuditEntry.action == jobs.ACTION))} == \
        set(jobs.JOBS)


def test_a_run_older_than_two_days_is_late(db_session: Session, area) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    for job, hours in (("tasks-escalate", 47), ("purge-tombstones", 49), ("backup", 1)):
        db_session.add(AuditEntry(action=jobs.ACTION, object_type="job", object_id=job, at=now - timedelta(hours=hours)))
    db_session.commit()
    assert [job for job, _at in jobs.late(db_session, now)] == ["purge-tombstones"]
    with pytest.raises(ValueError):
        jobs.record_run(db_session, "something-else")
