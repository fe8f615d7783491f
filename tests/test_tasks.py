"""Tasks (待办, model Task): defaults, generators (idempotent), escalation, reassignment and
due dates in the console with its filters, and the CLI for a cron."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import csrf_token, login, logout
from webapp.models import AuditEntry, Cycle, Task, Visit
from webapp.registry.rules import RuleSettings
from webapp.oversight.tasks import TaskSettings, escalate, fill_defaults, generate, permits_due, unvisited_late
from webapp.registry.tasks import close_task, create_task
from webapp.base.timeutil import local_today

SETTINGS = TaskSettings(task_due_days="public:3,sync:5,permit:10,unvisited:9", task_unvisited_late_days=7)
# A day late in November 2026 (a month cycle ends on the 30th) and one early in it.
LATE, EARLY = date(2026, 11, 27), date(2026, 11, 5)


def _tasks(s: Session, **where: object) -> list[Task]:
    s.rollback()
    return list(s.scalars(select(Task).filter_by(**where).order_by(Task.created_at, Task.id)))


def test_the_task_model_has_every_source_and_a_closed_set_of_results() -> None:
    from webapp.models.enums import TaskResult, TaskSource

    assert {"public", "lead", "volunteer", "property", "sync", "rules", "permit", "unvisited"} <= {
        s.value for s in TaskSource}
    assert [r.value for r in TaskResult] == ["changed", "no_change", "not_found", "duplicate"]
    for vocabulary in (TaskSource, TaskResult):
        assert all(m.label("zh") and m.label("en") and m.label("zh") != m.label("en") for m in vocabulary)
    assert "待办" in (Task.__doc__ or "")


def test_a_new_task_is_due_by_its_source_and_given_to_a_sole_coordinator(area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    task = create_task(s, area.houses["A1"], "moved_in", settings=SETTINGS, today=EARLY)
    assert (task.due_on, task.assignee_id) == (EARLY + timedelta(days=3), area.users["coordinator"].id)
    # Two coordinators in A1: nobody in particular (the cell's coordinators together).
    area.cells["A1"].coordinators.append(f.user(s, "coord2", "coordinator"))
    s.flush()
    other = create_task(s, area.houses["A1"], "moved_out", settings=SETTINGS, today=EARLY)
    assert other.assignee_id is None
    # No coordinator at all (A2), and a source the setting leaves out (7 days).
    lead_task = create_task(s, area.houses["A2"], "problem", "漏水", source="lead", settings=SETTINGS, today=EARLY)
    assert (lead_task.assignee_id, lead_task.due_on) == (None, EARLY + timedelta(days=7))


def test_bad_due_day_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="TASK_DUE_DAYS"):
        TaskSettings(task_due_days="public:3,nonsense:4")
    with pytest.raises(ValueError, match="TASK_DUE_DAYS"):
        TaskSettings(task_due_days="public:soon")
    assert TaskSettings.from_config({"TASK_DUE_DAYS": "rules:2", "TASK_UNVISITED_LATE_DAYS": "3"}) == TaskSettings(
        task_due_days="rules:2", task_unvisited_late_days=3)


def test_tasks_written_elsewhere_get_their_defaults_once(area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    made = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai on the 2nd
    s.add(Task(house_id=area.houses["A1"].id, cell_id=area.cells["A1"].id, kind="moved_out", source="sync",
              status="open", created_at=made))
    s.commit()
    assert fill_defaults(s, SETTINGS) == 1
    s.commit()
    [task] = _tasks(s)
    assert (task.due_on, task.assignee_id) == (date(2026, 11, 7), area.users["coordinator"].id)
    assert fill_defaults(s, SETTINGS) == 0


def test_permit_tasks_are_made_once_per_permit_and_due(area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    rules = RuleSettings(permit_expiry_warn_days=30)
    area.persons["A1"].permit_expiry = EARLY + timedelta(days=20)  # expiring
    area.persons["A2"].permit_expiry = EARLY + timedelta(days=400)  # nothing due yet
    s.commit()
    assert permits_due(s, SETTINGS, EARLY, rules=rules) == 1
    s.commit()
    [task] = _tasks(s, source="permit")
    assert task.house_id == area.houses["A1"].id and "王A1" in task.text and task.status == "open"
    assert task.due_on == EARLY + timedelta(days=10)  # the source's days: before the expiry
    assert task.assignee_id == area.users["coordinator"].id
    # Again, and again after it was closed: nothing new.
    assert permits_due(s, SETTINGS, EARLY, rules=rules) == 0
    close_task(task, "done", "已提醒续办", area.users["coordinator"].id, result="no_change")
    s.commit()
    assert permits_due(s, SETTINGS, EARLY + timedelta(days=1), rules=rules) == 0
    assert len(_tasks(s, source="permit")) == 1


def test_houses_unvisited_late_in_the_cycle_become_tasks_once(area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    # Early in the cycle: nothing. (The cycle is the month: COLLECTION_CYCLE's default.)
    assert unvisited_late(s, SETTINGS, EARLY) == 0
    # A1 visited this month (late on the 1st in Shanghai = the 1st, not October's last day).
    s.add(Visit(house_id=area.houses["A1"].id, visited_at=datetime(2026, 10, 31, 16, 30, tzinfo=timezone.utc),
                outcome="verified"))
    s.add(Visit(house_id=area.houses["A2"].id, visited_at=datetime(2026, 10, 20, 8, 0, tzinfo=timezone.utc),
                outcome="verified"))  # last month's: does not count
    s.commit()
    assert unvisited_late(s, SETTINGS, LATE) == 2  # A2 and B1; the cell-less house is no cell's work
    s.commit()
    tasks = _tasks(s, source="unvisited")
    assert {t.house_id for t in tasks} == {area.houses["A2"].id, area.houses["B1"].id}
    assert {t.due_on for t in tasks} == {date(2026, 11, 30)}  # the cycle's end comes before LATE + 9
    assert s.scalar(select(Cycle.name)) == "2026-11"
    assert unvisited_late(s, SETTINGS, LATE) == 0
    assert unvisited_late(s, SETTINGS, date(2026, 11, 30)) == 0
    # December's last week: a new cycle, new tasks.
    assert unvisited_late(s, SETTINGS, date(2026, 12, 28)) == 3


def test_generate_runs_every_generator_and_twice_makes_nothing(area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    area.persons["B1"].permit_expiry = LATE + timedelta(days=5)
    s.add(Task(house_id=area.houses["A1"].id, cell_id=area.cells["A1"].id, kind="problem", source="rules",
              status="open"))
    s.commit()
    first = generate(s, SETTINGS, LATE)
    s.commit()
    assert (first.permits, first.unvisited, first.filled) == (1, 3, 1)
    count = s.scalar(select(func.count()).select_from(Task))
    second = generate(s, SETTINGS, LATE)
    s.commit()
    assert (second.permits, second.unvisited, second.filled) == (0, 0, 0)
    assert s.scalar(select(func.count()).select_from(Task)) == count == 5


def test_overdue_open_tasks_escalate_once(area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    due = create_task(s, area.houses["A1"], "moved_in", settings=SETTINGS, today=EARLY)  # due on the 8th
    later = create_task(s, area.houses["A2"], "moved_in", source="sync", settings=SETTINGS, today=EARLY)  # the 10th
    done = create_task(s, area.houses["B1"], "moved_in", settings=SETTINGS, today=EARLY)
    close_task(done, "done", "已登记", None, result="changed")
    s.commit()
    assert escalate(s, date(2026, 11, 8)) == []  # due today is not overdue yet
    assert [t.id for t in escalate(s, date(2026, 11, 9))] == [due.id]
    s.commit()
    assert escalate(s, date(2026, 11, 9)) == []
    assert [t.id for t in escalate(s, date(2026, 11, 11))] == [later.id]
    s.commit()
    assert done.escalated_at is None


def test_cli_generate_and_escalate_for_a_cron(area, db_session, runner) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    today = local_today()
    task = create_task(s, area.houses["A1"], "moved_in", settings=SETTINGS, today=today - timedelta(days=10))
    s.commit()
    result = runner.invoke(args=["tasks", "escalate"])
    assert result.exit_code == 0 and "escalated: 1" in result.output, result.output
    assert runner.invoke(args=["tasks", "escalate"]).output.strip() == "escalated: 0"
    s.rollback()
    assert s.get(Task, task.id).escalated_at is not None
    audits = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "escalate_task")))
    assert [a.object_id for a in audits] == [str(task.id)]
    result = runner.invoke(args=["tasks", "generate"])
    assert result.exit_code == 0 and result.output.startswith("permits: "), result.output
    again = runner.invoke(args=["tasks", "generate"])
    assert again.output.strip() == "permits: 0, unvisited: 0, defaults filled: 0"


# ---- console: filters, reassignment, due dates

@pytest.fixture
def queue(area, db_session):  # type: ignore[no-untyped-def]
    s = db_session
    coord2 = f.user(s, "coord2", "coordinator", display_name="李协管")
    area.cells["A1"].coordinators.append(coord2)
    s.flush()
    today = local_today()
    tasks = {
        "mine": create_task(s, area.houses["A1"], "moved_in", "甲", settings=SETTINGS, today=today),
        "late": create_task(s, area.houses["A1"], "moved_out", "乙", settings=SETTINGS, today=today - timedelta(days=9)),
        "a2": create_task(s, area.houses["A2"], "problem", "丙", settings=SETTINGS, today=today),
    }
    tasks["mine"].assignee_id = area.users["coordinator"].id
    s.commit()
    escalate(s, today)
    s.commit()
    area.coord2 = coord2
    return tasks


def _page(client, **query: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/tasks", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_queue_filters_by_assignee_overdue_and_escalated(client, area, queue) -> None:  # type: ignore[no-untyped-def]
    login(client, "lead")
    page = _page(client)
    assert all(t in page for t in ("甲", "乙", "丙"))
    page = _page(client, assignee=str(area.users["coordinator"].id))
    assert "甲" in page and "乙" not in page and "丙" not in page
    page = _page(client, assignee="none")
    assert "甲" not in page and "乙" in page and "丙" in page
    for flag in ("overdue", "escalated"):
        page = _page(client, **{flag: "1"})
        assert "乙" in page and "甲" not in page and "丙" not in page
    assert client.get("/tasks?assignee=someone").status_code == 404
    logout(client)
    login(client, "coord")
    page = _page(client, assignee="me")
    assert "甲" in page and "乙" not in page


def _assign(client, task: Task, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/tasks")
    return client.post(f"/tasks/{task.id}/assign", data={"csrf_token": token, "version": str(task.version), **data})


def test_a_grid_lead_reassigns_within_the_cell_and_moves_the_due_date(client, area, queue, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    login(client, "lead")
    task = queue["late"]
    new_due = local_today() + timedelta(days=2)
    response = _assign(client, task, assignee=str(area.coord2.id), due_on=new_due.isoformat())
    assert response.status_code == 302
    s.rollback()
    task = s.get(Task, task.id)
    assert (task.assignee_id, task.due_on, task.escalated_at) == (area.coord2.id, new_due, None)
    actions = {a.action: a.detail for a in s.scalars(select(AuditEntry).where(AuditEntry.object_id == str(task.id)))}
    assert actions["reassign_task"] == {"before": None, "after": area.coord2.id}
    assert actions["task_due_date"]["after"] == new_due.isoformat()
    # Not to a coordinator of another cell, nor to a grid lead; nothing changes.
    other = f.user(s, "coordb", "coordinator")
    area.cells["B1"].coordinators.append(other)
    s.commit()
    for user_id in (other.id, area.users["grid_lead"].id):
        response = _assign(client, task, assignee=str(user_id), due_on=new_due.isoformat())
        assert response.status_code == 302
        s.rollback()
        assert s.get(Task, task.id).assignee_id == area.coord2.id
    # Back to the cell's coordinators together.
    _assign(client, task, assignee="", due_on=new_due.isoformat())
    s.rollback()
    assert s.get(Task, task.id).assignee_id is None


def test_a_due_date_is_not_moved_into_the_past(client, area, queue, db_session) -> None:  # type: ignore[no-untyped-def]
    # 1900-01-01 was taken: the task was overdue, and escalated, at once.
    login(client, "lead")
    task = queue["late"]
    before = task.due_on
    assert before is not None and before < local_today()
    refused = _assign(client, task, assignee="", due_on="1900-01-01")
    assert refused.status_code == 302
    assert "截止日期不能改到今天之前" in client.get(refused.headers["Location"]).get_data(as_text=True)
    db_session.rollback()
    assert db_session.get(Task, task.id).due_on == before
    # A date already past may stay as it is while the task is reassigned.
    kept = _assign(client, task, assignee=str(area.coord2.id), due_on=before.isoformat())
    assert kept.status_code == 302
    db_session.rollback()
    assert (db_session.get(Task, task.id).assignee_id, db_session.get(Task, task.id).due_on) == (area.coord2.id, before)


def test_coordinators_may_not_reassign(client, area, queue, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "coord")
    task = queue["late"]
    response = _assign(client, task, assignee=str(area.coord2.id), due_on="2030-01-01")
    assert response.status_code == 403
    db_session.rollback()
    assert db_session.get(Task, task.id).assignee_id is None


def test_closing_in_the_console_records_the_result(client, area, queue, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "coord")
    task = queue["mine"]
    token = csrf_token(client, "/tasks")
    bad = client.post(f"/tasks/{task.id}/close", data={"csrf_token": token, "version": str(task.version),
                                                    "status": "rejected", "result": "changed", "outcome": "?"})
    assert bad.status_code == 422  # the queue again, with what was typed
    db_session.rollback()
    assert db_session.get(Task, task.id).is_open
    client.post(f"/tasks/{task.id}/close", data={"csrf_token": token, "version": str(task.version),
                                              "status": "done", "result": "changed", "outcome": "新登记两人"})
    db_session.rollback()
    task = db_session.get(Task, task.id)
    assert (task.status, task.result, task.led_to_change) == ("done", "changed", True)
    assert "已变更登记" in _page(client, status="done") or "Registry changed" in _page(client, status="done")
