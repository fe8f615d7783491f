"""Residents' tasks: the public form, validation, the coordinators' queue, closing, limits."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import csrf_token, login
from tests.plating import give_plate
from webapp.models import AuditEntry, Task
from webapp.registry.tasks import client_key, create_task

ATTACKS = [
    '<script>alert("task")</script>',
    "'); DROP TABLE task; --",
    '<img src=x onerror="alert(1)">',
    "Robert'); DELETE FROM person WHERE ('1'='1",
]


@pytest.fixture
def codes(area, db_session: Session) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {key: give_plate(db_session, house) for key, house in area.houses.items()}


def _send(client, code: str, addr: str = "203.0.113.7", **data: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/h/{code}")
    return client.post(f"/h/{code}", data={"csrf_token": token, **data},
                       environ_base={"REMOTE_ADDR": addr})


def _tasks(db_session: Session) -> list[Task]:
    db_session.rollback()
    return list(db_session.scalars(select(Task).order_by(Task.created_at)))


def test_a_resident_reports_a_move(client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    response = _send(client, codes["A1"], kind="moved_in", text="301室搬来两位租客\r\n约上周末",
                     contact_phone="+86 139-1234-5678")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/h/{codes['A1']}")
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you" in thanks or "谢谢" in thanks
    [task] = _tasks(db_session)
    house = area.houses["A1"]
    assert (task.house_id, task.cell_id, task.kind, task.status, task.source) == (
        house.id, area.cells["A1"].id, "moved_in", "open", "public")
    assert task.text == "301室搬来两位租客\n约上周末"
    assert task.contact_phone == "13912345678"
    # Only a keyed hash of the address is kept.
    assert task.client_ip_hash == client_key("203.0.113.7", "test-secret")
    assert "203.0.113.7" not in task.client_ip_hash and len(task.client_ip_hash) == 32
    # Public tasks leave no audit row (which would keep the raw address).
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_ipv6_senders_are_counted_by_their_64(db_session) -> None:  # type: ignore[no-untyped-def]
    assert client_key("2001:db8:1:2::1", "k") == client_key("2001:db8:1:2:ffff::9", "k")
    assert client_key("2001:db8:1:3::1", "k") != client_key("2001:db8:1:2::1", "k")
    assert client_key("198.51.100.1", "k") != client_key("198.51.100.1", "other key")


@pytest.mark.parametrize("data, error", [
    ({"kind": "problem", "text": "  "}, ("Please describe the problem", "请描述")),
    ({"kind": "moved_out", "text": "x" * 501}, ("At most 500", "500")),
    ({"kind": "moved_out", "contact_phone": "12345"}, ("Mobile number must be", "手机号码应为")),
    ({"kind": "burglary"}, ("Not a valid choice", "选择")),
    ({"text": "no kind"}, ("Please choose what you want to tell us", "请选择要反映的事项")),
    ({"kind": "problem", "text": "escape\x1b[31m"}, ("cannot be saved", "无法保存")),
])
def test_bad_reports_are_refused_with_a_reason(client, area, codes, db_session, data, error) -> None:  # type: ignore[no-untyped-def]
    response = _send(client, codes["A1"], **data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert any(e in html for e in error), html[-1500:]
    assert _tasks(db_session) == []


@pytest.mark.parametrize(("data", "field"), [({"kind": "moved_out", "text": "x" * 2001}, "text"),
                                             ({"kind": "moved_out", "contact_phone": "1" * 40}, "contact_phone")])
def test_one_problem_one_message(client, area, codes, data, field: str) -> None:  # type: ignore[no-untyped-def]
    # WTForms' length message and the form's own both showed for one over-long field.
    html = _send(client, codes["A1"], **data).get_data(as_text=True)
    errors = re.findall(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    assert len(errors) == 1 and "Field cannot be longer" not in errors[0], errors
    assert "字段长度不能超过" not in errors[0]


def test_exactly_500_characters_with_crlf_line_breaks_fit(client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    text = ("a" * 99 + "\r\n") * 5  # 500 once line breaks are one character, 505 as sent
    assert _send(client, codes["A1"], kind="problem", text=text.strip()).status_code == 303
    assert len(_tasks(db_session)[0].text) == len(text.strip().replace("\r\n", "\n"))


def test_a_report_without_csrf_token_is_refused(client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"/h/{codes['A1']}", data={"kind": "moved_in"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "页面已过期" in html and "expired" in html
    assert _tasks(db_session) == []


def test_no_task_on_a_retired_plate(client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    old = codes["A1"]
    give_plate(db_session, area.houses["A1"])
    token = csrf_token(client, f"/h/{give_plate(db_session, area.houses['A2'])}")
    assert client.post(f"/h/{old}", data={"csrf_token": token, "kind": "moved_in"}).status_code == 410
    assert _tasks(db_session) == []


def test_the_task_reaches_the_cells_coordinator(app, client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    _send(client, codes["A1"], kind="problem", text="楼道堆放杂物，疑似群租")
    _send(client, codes["B1"], kind="moved_out", text="乙居委的线索")
    _send(client, codes["none"], kind="moved_out", text="未划网格的线索")
    login(client, "coord")
    html = client.get("/tasks").get_data(as_text=True)
    assert "楼道堆放杂物，疑似群租" in html and area.houses["A1"].address in html
    assert "乙居委的线索" not in html and "未划网格的线索" not in html
    centre = app.test_client()
    login(centre, "centre")
    html = centre.get("/tasks").get_data(as_text=True)
    assert all(t in html for t in ("楼道堆放杂物", "乙居委的线索", "未划网格的线索"))


def test_police_see_tasks_but_cannot_close_them_and_see_phones_masked(client, area, codes) -> None:  # type: ignore[no-untyped-def]
    _send(client, codes["A1"], kind="moved_in", contact_phone="13912345678")
    login(client, "police")
    html = client.get("/tasks").get_data(as_text=True)
    assert "139****5678" in html and "13912345678" not in html
    assert "/close" not in html


@pytest.mark.parametrize("attack", ATTACKS)
def test_injection_strings_are_stored_verbatim_and_rendered_inert(client, area, codes, db_session, attack) -> None:  # type: ignore[no-untyped-def]
    assert _send(client, codes["A1"], kind="problem", text=attack).status_code == 303
    [task] = _tasks(db_session)
    assert task.text == attack
    assert db_session.scalar(select(func.count()).select_from(Task)) == 1  # no table dropped
    login(client, "coord")
    html = client.get("/tasks").get_data(as_text=True)
    assert attack not in html
    assert "<script>alert" not in html and not re.search(r"<img[^>]*onerror", html)
    assert attack.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
        .replace('"', "&#34;").replace("'", "&#39;") in html


def _close(client, task: Task, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/tasks")
    return client.post(f"/tasks/{task.id}/close", data={"csrf_token": token, "version": str(task.version), **data})


def test_a_coordinator_closes_a_task(client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    _send(client, codes["A1"], kind="moved_in", text="新租客")
    [task] = _tasks(db_session)
    version = task.version
    login(client, "coord")
    response = _close(client, task, status="done", outcome="已上门登记两人")
    assert response.status_code == 302
    [closed] = _tasks(db_session)
    assert (closed.status, closed.outcome) == ("done", "已上门登记两人")
    assert closed.closed_by_id == area.users["coordinator"].id
    assert closed.closed_at is not None and closed.version == version + 1
    assert db_session.scalar(select(AuditEntry.action).where(AuditEntry.object_id == str(task.id))) == "close_task"
    assert "新租客" not in client.get("/tasks").get_data(as_text=True)
    assert "新租客" in client.get("/tasks?status=done").get_data(as_text=True)
    # Closing it again (a second tab, an old version) changes nothing.
    token = csrf_token(client, "/tasks")
    again = client.post(f"/tasks/{task.id}/close", data={"csrf_token": token, "version": str(version),
                                                       "status": "rejected", "outcome": "重复"})
    assert again.status_code == 409 and "您填写的内容（未保存）：重复" in again.get_data(as_text=True)
    assert _tasks(db_session)[0].status == "done"


def test_a_refused_close_keeps_what_was_typed(client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    # Refused (a result that does not fit the status), the queue came back by a redirect and
    # the typed outcome was gone.
    _send(client, codes["A1"], kind="moved_in", text="新租客")
    [task] = _tasks(db_session)
    login(client, "coord")
    refused = _close(client, task, status="rejected", result="changed", outcome="上门两次无人，邻居说已搬走")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert ">上门两次无人，邻居说已搬走</textarea>" in page
    assert re.search(r'<input type="radio" name="status" value="rejected" required checked>', page)
    assert re.search(r'<option value="changed" selected>', page)
    assert _tasks(db_session)[0].is_open


def test_a_close_that_loses_a_race_at_the_write_is_a_409(app, client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    """Two closes at one moment (PostgreSQL; SQLite runs one writer at a time): both pass the
    view's version check, and the second's write finds the version moved. That was a 500."""
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serialises writing requests: the second waits and sees the first")
    from sqlalchemy import event, update
    from webapp.extensions import db

    _send(client, codes["A1"], kind="moved_in", text="同时处理")
    [task] = _tasks(db_session)
    login(client, "coord")
    with app.app_context():
        engine = db.engine

    def the_other_close(session, _context, _instances) -> None:  # type: ignore[no-untyped-def]
        # The other request's write lands between this one's check and its flush.
        if any(isinstance(o, Task) for o in session.dirty):
            with engine.begin() as other:
                other.execute(update(Task).where(Task.id == task.id).values(
                    status="done", outcome="另一位已处理", version=Task.version + 1))

    event.listen(db.session, "before_flush", the_other_close)
    try:
        response = _close(client, task, status="rejected", outcome="我这边的结论")
    finally:
        event.remove(db.session, "before_flush", the_other_close)
    assert response.status_code == 409
    assert "同一时刻" in response.get_data(as_text=True)
    [closed] = _tasks(db_session)
    assert (closed.status, closed.outcome) == ("done", "另一位已处理")


def test_the_old_tips_addresses_redirect_to_tasks(client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    """Issue 20: the queue was at /tips. A bookmark gets 301; a form posted from a page left
    open across the update gets 308, so the browser posts the same body to the new address."""
    _send(client, codes["A1"], kind="moved_in", text="旧地址")
    [task] = _tasks(db_session)
    for old, new in (("/tips", "/tasks"), ("/tips/", "/tasks"), ("/tips?status=done&assignee=me", "/tasks?status=done&assignee=me")):
        response = client.get(old)
        assert (response.status_code, response.headers["Location"]) == (301, new), old
    login(client, "coord")
    token = csrf_token(client, "/tasks")
    form = {"csrf_token": token, "version": str(task.version), "status": "done", "result": "no_change", "outcome": "已核实"}
    moved = client.post(f"/tips/{task.id}/close", data=form)
    assert (moved.status_code, moved.headers["Location"]) == (308, f"/tasks/{task.id}/close")
    assert _tasks(db_session)[0].status == "open"  # the redirect itself changed nothing
    # What the browser does with a 308: the same post, to the new address.
    assert client.post(moved.headers["Location"], data=form).status_code == 302
    assert _tasks(db_session)[0].status == "done"
    # Without the form's token the old address refuses the post, like the new one.
    assert client.post(f"/tips/{task.id}/close", data={**form, "csrf_token": ""}).status_code == 400


@pytest.mark.parametrize("data", [
    {"status": "open", "outcome": "x"},
    {"status": "done", "outcome": ""},
    {"status": "done", "outcome": "y" * 501},
])
def test_closing_needs_a_result_and_an_outcome(client, area, codes, db_session, data) -> None:  # type: ignore[no-untyped-def]
    _send(client, codes["A1"], kind="moved_out")
    [task] = _tasks(db_session)
    login(client, "lead")
    _close(client, task, **data)
    assert _tasks(db_session)[0].status == "open"


def test_a_task_outside_the_scope_cannot_be_closed(client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    _send(client, codes["B1"], kind="moved_out")
    [task] = _tasks(db_session)
    login(client, "coord")
    assert _close(client, task, status="done", outcome="x").status_code == 404


def test_the_task_keeps_the_cell_it_was_sent_to(db_session, area) -> None:  # type: ignore[no-untyped-def]
    house = area.houses["A1"]
    task = create_task(db_session, house, "problem", "漏水")
    house.cell_id = area.cells["A2"].id
    db_session.commit()
    assert db_session.get(Task, task.id).cell_id == area.cells["A1"].id


def test_an_unplaced_house_gets_a_task_without_cell(db_session, area) -> None:  # type: ignore[no-untyped-def]
    task = create_task(db_session, area.houses["none"], "moved_in", source="lead")
    assert task.cell_id is None and task.source == "lead"


# --- rate limits on the public form ---------------------------------------------------


def test_tight_limit_per_plate_whatever_the_address(app, client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    app.config.update(TASK_LIMIT_PER_PLATE=2, TASK_LIMIT_PER_IP=100)
    results = [_send(client, codes["A1"], addr=f"198.51.100.{i}", kind="moved_in").status_code for i in range(3)]
    assert results == [303, 303, 429]
    # Another plate is unaffected.
    assert _send(client, codes["A2"], kind="moved_in").status_code == 303
    assert len(_tasks(db_session)) == 3


def test_loose_limit_per_address_across_plates(app, client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    app.config.update(TASK_LIMIT_PER_PLATE=100, TASK_LIMIT_PER_IP=3)
    results = [_send(client, code, kind="moved_in").status_code for code in codes.values()]
    assert results == [303, 303, 303, 429]
    refused = _send(client, codes["A1"], kind="moved_in")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 3600
    # Another address (another phone, another carrier) still gets through.
    assert _send(client, codes["A1"], addr="192.0.2.44", kind="moved_in").status_code == 303


def test_refused_and_invalid_reports_count_against_the_sender(app, client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    app.config.update(TASK_LIMIT_PER_PLATE=100, TASK_LIMIT_PER_IP=2)
    assert _send(client, codes["A1"], kind="nonsense").status_code == 422
    assert _send(client, codes["A1"], kind="moved_in").status_code == 303
    assert _send(client, codes["A1"], kind="moved_in").status_code == 429


def test_junk_posts_do_not_block_a_plate_and_a_refused_report_keeps_its_text(app, client, area, codes, db_session) -> None:  # type: ignore[no-untyped-def]
    # Five invalid posts (from one phone, or many) used up the plate's reports for an hour,
    # and the 429 page had no form: the next resident's typed report was gone.
    app.config.update(TASK_LIMIT_PER_PLATE=2, TASK_LIMIT_PER_IP=100)
    for i in range(5):
        assert _send(client, codes["A1"], addr=f"198.51.100.{i}", kind="moved_in",
                     contact_phone="1381234567").status_code == 422
    assert _send(client, codes["A1"], kind="moved_in", text="第一份").status_code == 303
    assert _send(client, codes["A1"], kind="moved_in", text="第二份").status_code == 303
    refused = _send(client, codes["A1"], kind="moved_out", text="302室已搬走，请核实")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 3600
    page = refused.get_data(as_text=True)
    assert "提交过于频繁" in page and "Too many reports" in page
    assert "302室已搬走，请核实" in page and re.search(r'<input checked [^>]*value="moved_out"', page)
    assert [t.text for t in _tasks(db_session)] == ["第一份", "第二份"]


def test_task_factory_free_text_kinds(db_session, area) -> None:  # type: ignore[no-untyped-def]
    house = f.house(db_session, area.cells["A1"])
    with pytest.raises(ValueError):
        create_task(db_session, house, "rumour")
    with pytest.raises(ValueError):
        create_task(db_session, house, "problem", "z" * 501)
