"""Community reporters (楼组长, volunteers, property guards): their committee's houses only,
addresses only, their own reports with status and result, and the contribution page."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.conftest import csrf_token, login, logout
from tests.plating import give_plate
from webapp.models import AuditEntry, Task
from webapp.registry.tasks import close_task


@pytest.fixture
def reporter(area, db_session):  # type: ignore[no-untyped-def]
    user = f.user(db_session, "rep", "reporter", display_name="赵楼组长", committee_id=area.committees["A"].id)
    db_session.commit()
    return user


def _report(client, house, **data: str):  # type: ignore[no-untyped-def]
    url = f"/community/houses/{house.id}/report"
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def test_a_reporter_finds_houses_of_their_committee_by_code_or_address(client, area, reporter, db_session) -> None:  # type: ignore[no-untyped-def]
    codes = {k: give_plate(db_session, area.houses[k]) for k in ("A1", "B1")}
    login(client, "rep")
    page = client.get("/community", query_string={"q": codes["A1"]}).get_data(as_text=True)
    assert f"/community/houses/{area.houses['A1'].id}/report" in page
    # Another committee's plate finds nothing.
    page = client.get("/community", query_string={"q": codes["B1"]}).get_data(as_text=True)
    assert f"/community/houses/{area.houses['B1'].id}/report" not in page
    page = client.get("/community", query_string={"q": "谷阳北路"}).get_data(as_text=True)
    found = {k for k, h in area.houses.items() if f"/community/houses/{h.id}/report" in page}
    assert found == {"A1", "A2"}
    # Addresses only: never who lives there.
    for person in area.persons.values():
        assert person.name not in page and person.id_number not in page
    assert "13812345678" not in page


def test_a_reporter_files_a_report_and_sees_its_outcome(client, area, reporter, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "rep")
    form = client.get(f"/community/houses/{area.houses['A1'].id}/report")
    assert form.status_code == 200 and "王A1" not in form.get_data(as_text=True)
    refused = _report(client, area.houses["A1"], kind="problem", reporting_as="property", text=" ")
    assert refused.status_code == 422
    assert _report(client, area.houses["A1"], kind="problem", reporting_as="property",
                   text="地下室住人").status_code == 302
    assert _report(client, area.houses["A2"], kind="moved_out", reporting_as="volunteer").status_code == 302
    db_session.rollback()
    tasks = {t.house_id: t for t in db_session.scalars(select(Task).where(Task.reporter_id == reporter.id))}
    first = tasks[area.houses["A1"].id]
    assert (first.source, first.cell_id, first.text, first.assignee_id) == (
        "property", area.cells["A1"].id, "地下室住人", area.users["coordinator"].id)
    assert tasks[area.houses["A2"].id].source == "volunteer"
    assert {a.object_id for a in db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "community_report"))} == {str(t.id) for t in tasks.values()}
    # The coordinator closes one; the reporter sees the result, not the note (it may name people).
    close_task(first, "done", "王A1 的邻居已登记", area.users["coordinator"].id, result="changed")
    db_session.commit()
    page = client.get("/community").get_data(as_text=True)
    assert "地下室住人" in page and "已变更登记" in page and "王A1" not in page
    assert "待处理" in page  # the other one is still open


def test_a_reporter_cannot_report_outside_their_committee_nor_read_the_registry(client, area, reporter) -> None:  # type: ignore[no-untyped-def]
    login(client, "rep")
    assert client.get(f"/community/houses/{area.houses['B1'].id}/report").status_code == 404
    assert _report(client, area.houses["B1"], kind="moved_in", reporting_as="lead").status_code == 404
    assert client.get(f"/houses/{area.houses['A1'].id}").status_code == 404
    assert client.get(f"/persons/{area.persons['A1'].id}").status_code == 404
    assert "王A1" not in client.get("/search?q=王").get_data(as_text=True)
    assert client.get("/community/reporters").status_code == 403


def test_staff_do_not_file_community_reports(client, area) -> None:  # type: ignore[no-untyped-def]
    for username in ("coord", "comm", "centre"):
        login(client, username)
        assert client.get("/community").status_code == 403
        logout(client)


def test_a_reporter_without_a_committee_finds_nothing(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    f.user(db_session, "lost", "reporter")
    db_session.commit()
    login(client, "lost")
    page = client.get("/community", query_string={"q": "谷阳北路"}).get_data(as_text=True)
    assert "/report" not in page and ("not linked" in page or "尚未关联" in page)


def test_the_contribution_page_counts_reports_that_led_to_a_change(client, area, reporter, db_session) -> None:  # type: ignore[no-untyped-def]
    other = f.user(db_session, "rep_b", "reporter", display_name="钱志愿者", committee_id=area.committees["B"].id)
    db_session.commit()
    login(client, "rep")
    for text in ("一", "二", "三"):
        _report(client, area.houses["A1"], kind="problem", reporting_as="lead", text=text)
    logout(client)
    db_session.rollback()
    tasks = list(db_session.scalars(select(Task).where(Task.reporter_id == reporter.id).order_by(Task.text)))
    close_task(tasks[0], "done", "已登记", None, result="changed")
    close_task(tasks[1], "rejected", "查无此事", None, result="not_found")
    db_session.commit()
    login(client, "comm")
    page = client.get("/community/reporters").get_data(as_text=True)
    assert "赵楼组长" in page and "钱志愿者" not in page  # the committee's own reporters
    row = page.split("赵楼组长", 1)[1].split("</tr>", 1)[0]
    assert [c.split(">")[-1] for c in row.split("</td>")[1:5]] == ["甲居委", "3", "1", "1"]
    logout(client)
    login(client, "centre")
    page = client.get("/community/reporters").get_data(as_text=True)
    assert "赵楼组长" in page and "钱志愿者" in page and other.display_name in page


def test_a_reporter_registers_no_phone(client, area, reporter) -> None:  # type: ignore[no-untyped-def]
    """Reporters use the web page: the field app refuses their login (a phone holding their
    committee's addresses would be one more copy to lose), and says where to go instead."""
    registered = client.post("/api/devices", json={"username": "rep", "password": "pw"})
    assert registered.status_code == 403
    body = registered.get_json()
    assert body["code"] == "role_no_device" and "token" not in body and "/community" in body["detail"]


def test_the_centre_adds_a_reporter_from_the_command_line(area, runner, client, db_session) -> None:  # type: ignore[no-untyped-def]
    code = area.committees["A"].code
    result = runner.invoke(args=["community", "add-reporter", "louzu1", "--committee", code, "--name", "孙楼组长",
                                 "--password", "louzu-wanfang-2026"])  # the password policy holds here too
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["community", "add-reporter", "x", "--committee", "NOPE",
                               "--password", "louzu-wanfang-2026"]).exit_code != 0
    login(client, "louzu1", "louzu-wanfang-2026")
    assert client.get("/community").status_code == 200
