"""A task's life cycle through the real API and the reference phone client: a resident's
declaration (or a community reporter's report) → the task on the coordinator's phone →
a visit and the close pushed from the phone → closed with its visit → counted."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.conftest import csrf_token, login
from tests.plating import give_plate
from tests.sync_client import Phone, registered_phone
from webapp.models import Conflict, Task
from webapp.registry.scope import Scope, scope_for
from webapp.oversight.tasks.community import changes_by_source, reporter_figures

VISITED_AT = "2026-11-26T07:30:00Z"


def _phone(client, username: str) -> Phone:  # type: ignore[no-untyped-def]
    # Keeps approved reviews, closed tasks and ended residencies, which the field app prunes
    # (docs/sync.md §4): these tests send edits of them to see how the server answers.
    return registered_phone(client, username, prune=False)


def _declare(client, code: str, text: str) -> None:  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/h/{code}")
    response = client.post(f"/h/{code}", data={"csrf_token": token, "kind": "moved_in", "text": text},
                           environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 303


def _close_offline(phone: Phone, task_id: str, house_id: str, *, result: str = "changed",
                   status: str = "done") -> str:
    """On the phone, offline: a visit at the house, then the task closed with it."""
    visit_id = str(uuid.uuid4())
    phone.queue("visit", "create", visit_id, {"house_id": house_id, "visited_at": VISITED_AT, "outcome": "verified"})
    phone.queue("task", "update", task_id, {"status": status, "outcome": "新租客两人已登记", "result": result,
                                          "closed_at": VISITED_AT, "closed_visit_id": visit_id})
    return visit_id


def test_declaration_to_phone_to_visit_to_closed_and_counted(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    code = give_plate(s, area.houses["A1"])
    give_plate(s, area.houses["B1"])
    _declare(client, code, "301室搬来两位租客")
    phone = _phone(client, "coord")
    [task] = phone.rows["task"].values()
    coord = area.users["coordinator"]
    assert task["house_id"] == str(area.houses["A1"].id) and task["status"] == "open"
    # The phone can show "mine", and when it is due; generator keys stay on the server.
    assert task["assignee_id"] == phone.user_id == coord.id  # type: ignore[attr-defined]
    assert task["due_on"] and "origin_key" not in task
    visit_id = _close_offline(phone, task["id"], task["house_id"])
    outcomes = phone.push()
    assert [o["status"] for o in outcomes] == ["applied", "applied"], outcomes
    s.rollback()
    stored = s.get(Task, uuid.UUID(task["id"]))
    assert (stored.status, stored.result, stored.closed_visit_id, stored.led_to_change) == (
        "done", "changed", uuid.UUID(visit_id), True)
    assert stored.closed_visit.house_id == stored.house_id
    # Counted for its source, in the scope of those who see the house.
    assert changes_by_source(s, scope_for(s, coord).house_clause())["public"] == (1, 1)
    assert changes_by_source(s, Scope("coordinator", frozenset({area.cells["B1"].id})).house_clause()) == {}
    s.rollback()
    # The phone learns the closed task on its next pull.
    phone.pull()
    assert phone.rows["task"][task["id"]]["status"] == "done"


def test_a_reporters_report_reaches_the_phone_and_counts_for_the_reporter(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    reporter = f.user(s, "rep", "reporter", display_name="赵楼组长", committee_id=area.committees["A"].id)
    s.commit()
    login(client, "rep")
    token = csrf_token(client, f"/community/houses/{area.houses['A1'].id}/report")
    response = client.post(f"/community/houses/{area.houses['A1'].id}/report",
                           data={"csrf_token": token, "kind": "problem", "reporting_as": "lead",
                                 "text": "楼道堆物，疑似群租"})
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/community")})
    phone = _phone(client, "coord")
    [task] = phone.rows["task"].values()
    assert (task["source"], task["reporter_id"]) == ("lead", reporter.id)
    _close_offline(phone, task["id"], task["house_id"])
    assert [o["status"] for o in phone.push()] == ["applied", "applied"]
    s.rollback()
    [fig] = reporter_figures(s, [area.committees["A"].id])
    assert (fig.user_id, fig.filed, fig.open, fig.changed, fig.by_source) == (reporter.id, 1, 0, 1, {"lead": 1})
    # The reporter sees the outcome (the result, not the coordinator's note).
    login(client, "rep")
    page = client.get("/community").get_data(as_text=True)
    assert "已变更登记" in page and "新租客两人已登记" not in page


def test_tasks_of_the_devices_cells_reach_it_whoever_is_assigned(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from webapp.registry.tasks import create_task

    s = db_session
    other = f.user(s, "coord2", "coordinator")
    area.cells["A1"].coordinators.append(other)
    s.flush()
    mine = create_task(s, area.houses["A1"], "moved_in", "给我的")
    theirs = create_task(s, area.houses["A1"], "moved_out", "给同事的")
    theirs.assignee_id = other.id
    elsewhere = create_task(s, area.houses["B1"], "moved_in", "别的网格")
    s.commit()
    rows = _phone(client, "coord").rows["task"]
    assert set(rows) == {str(mine.id), str(theirs.id)} and str(elsewhere.id) not in rows
    assert rows[str(theirs.id)]["assignee_id"] == other.id


@pytest.mark.parametrize("case, code", [
    ("other_house", "task.visit_house"),
    ("unknown_visit", "out_of_scope"),  # as any unknown or outside record (sync/reach.py)
    ("changed_but_rejected", "task.result"),
    ("bad_result", "field.choice"),
])
def test_a_close_that_does_not_fit_is_rejected(client, area, db_session, case: str, code: str) -> None:  # type: ignore[no-untyped-def]
    from webapp.registry.tasks import create_task

    s = db_session
    task = create_task(s, area.houses["A1"], "moved_in", "x")
    s.commit()
    phone = _phone(client, "coord")
    task_id, house_id = str(task.id), str(area.houses["A1"].id)
    if case == "other_house":
        # A house of the same cell, made on the phone: the visit is real but elsewhere.
        other = str(uuid.uuid4())
        phone.queue("house", "create", other, {"cell_id": str(area.cells["A1"].id), "road": "谷阳北路", "number": "900"})
        _close_offline(phone, task_id, other)
    elif case == "unknown_visit":
        phone.queue("task", "update", task_id, {"status": "done", "outcome": "x", "closed_visit_id": str(uuid.uuid4())})
    elif case == "changed_but_rejected":
        _close_offline(phone, task_id, house_id, status="rejected")
    else:
        _close_offline(phone, task_id, house_id, result="much better")
    outcomes = {o["type"]: o for o in phone.push()}
    s.rollback()
    if code == "out_of_scope":
        assert outcomes["task"]["status"] == "conflict", outcomes
        assert s.scalar(select(Conflict.kind).where(Conflict.id == uuid.UUID(outcomes["task"]["conflict_id"]))) == code
    else:
        assert outcomes["task"]["status"] == "rejected", outcomes
        assert [e["code"] for e in outcomes["task"]["errors"]] == [code]
    assert s.scalar(select(Task.status).where(Task.id == task.id)) == "open"


def test_a_close_from_the_phone_records_who_closed_it(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """The phone does not send closed_by_id (it may not write it): the server sets the device's user."""
    from webapp.registry.tasks import create_task

    s = db_session
    task, other = create_task(s, area.houses["A1"], "moved_in", "x"), create_task(s, area.houses["A1"], "problem", "y")
    s.commit()
    phone = _phone(client, "coord")
    _close_offline(phone, str(task.id), str(area.houses["A1"].id))
    _close_offline(phone, str(other.id), str(area.houses["A1"].id), result="not_found", status="rejected")
    assert [o["status"] for o in phone.push()] == ["applied"] * 4
    s.rollback()
    coord = area.users["coordinator"]
    assert (s.get(Task, task.id).closed_by_id, s.get(Task, other.id).closed_by_id) == (coord.id, coord.id)
    assert s.get(Task, other.id).status == "rejected"
