"""The console's house page lists the house's open tasks (待办); closed ones only counted."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.conftest import login, logout
from webapp.registry.tasks import close_task, create_task


def _tasks_section(client, house_id) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/houses/{house_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = re.search(r'<section class="house-tasks".*?</section>', page, re.S)
    assert found, "no task section on the house page"
    return found.group(0)


def test_open_tasks_listed_with_kind_source_date_and_text(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    house = area.houses["A1"]
    task = create_task(db_session, house, "problem", "楼道漏水 <b>", source="lead")
    # 23:30 UTC is the next morning in Shanghai: the page shows local time.
    task.created_at = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)
    create_task(db_session, area.houses["A2"], "moved_in", "别家的事")
    db_session.commit()
    login(client, "coord")
    section = _tasks_section(client, house.id)
    assert "楼道漏水 &lt;b&gt;" in section  # escaped, verbatim
    assert "房屋问题" in section  # kind label
    assert "楼组长/网格长" in section  # source label
    assert "2026-03-05" in section
    assert "别家的事" not in section  # another house's task
    assert 'href="/tasks' in section
    assert "<details>" not in section  # nothing closed yet
    assert "待办事项" in section  # the heading in Chinese, the default language


def test_closed_tasks_are_counted_and_collapsed(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    house = area.houses["A1"]
    open_task = create_task(db_session, house, "moved_out", "还开着")
    for n in range(2):
        done = create_task(db_session, house, "problem", f"已处理{n}")
        close_task(done, "done", f"修好了{n}", area.users["coordinator"].id)
    db_session.commit()
    login(client, "coord")
    section = _tasks_section(client, house.id)
    listed, collapsed = section.split("<details>")
    assert open_task.text in listed and "已处理0" not in listed
    assert "2" in collapsed.split("</summary>")[0]
    assert "修好了0" in collapsed and "修好了1" in collapsed


def test_no_open_tasks_says_so(client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    section = _tasks_section(client, area.houses["B1"].id)
    assert "<table" not in section


def test_coordinator_outside_the_cell_never_sees_the_tasks(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    create_task(db_session, area.houses["B1"], "problem", "乙居委的秘密")
    db_session.commit()
    login(client, "coord")  # coordinator of A1 only
    response = client.get(f"/houses/{area.houses['B1'].id}")
    assert response.status_code == 404
    assert "乙居委的秘密" not in response.get_data(as_text=True)
    logout(client)
    login(client, "centre")
    assert "乙居委的秘密" in _tasks_section(client, area.houses["B1"].id)
