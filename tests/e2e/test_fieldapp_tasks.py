"""Tasks (待办) on the coordinator's phone, end to end (issue 9): a resident's declaration on the
real plate page becomes a task on the phone, which is closed offline with the visit that found
it, reaches the server closed by that visit and is counted; a task reassigned on the server
moves between "mine" and the others after a sync."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import House, Task, User, Visit
from webapp.registry.scope import scope_for
from webapp.oversight.tasks.assign import reassign
from webapp.oversight.tasks.community import changes_by_source
from webapp.registry.tasks import create_task
from webapp.base.timeutil import local_today


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Any:
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN")
    yield ctx
    ctx.close()


def _task_ids(page: Page, selector: str, count: int) -> list[str]:
    """The tasks listed under `selector`, once the view shows `count` of them (it renders after the hash changes)."""
    rows = page.locator(f"{selector} li[data-task]")
    expect(rows).to_have_count(count)
    return rows.evaluate_all("(els) => els.map((e) => e.dataset.task)")


def test_declaration_to_a_task_closed_offline_with_its_visit_and_counted(context: Any, browser: Browser,
                                                                          live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    house = area.houses[1]
    fa.declare(browser, live_server, area.codes[1], "402室新搬来一家三口")
    with Session(live_server.engine) as s:
        [task] = s.scalars(select(Task).where(Task.house_id == uuid.UUID(house))).all()
        assert (task.source, task.status, task.assignee_id) == ("public", "open", area.user_id)
        task_id = str(task.id)

    page = context.new_page()
    fa.app_login(page, area.username)
    fa.wait(page, "document.querySelector('#tasks-badge')?.textContent === '1'")
    context.set_offline(True)
    before = len(live_server.requests)

    fa.go(page, "#/tasks")
    assert _task_ids(page, "#tasks-mine", 1) == [task_id]
    row = page.locator(f"#tasks-mine li[data-task='{task_id}']")
    expect(row).to_contain_text("群众扫码")
    expect(row).to_contain_text("402室新搬来一家三口")
    expect(row.locator("[data-whose=mine]")).to_have_text("我的")
    row.get_by_role("link").click()
    fa.wait(page, "location.hash === arg", f"#/house/{house}")
    expect(page.locator(f"#tasks li[data-task='{task_id}']")).to_contain_text("有人搬入")
    page.locator(f"#tasks li[data-task='{task_id}']").get_by_role("link", name="办结").click()
    fa.wait(page, "location.hash === arg", f"#/house/{house}/task/{task_id}/close")

    # No visit today: the close records one too. An empty form says what is missing, in Chinese.
    expect(page.locator("#task-new-visit")).to_be_visible()
    page.click("button[type=submit]")
    expect(page.locator("[data-error-for=result]")).to_have_text("请选择处理结果")
    expect(page.locator("[data-error-for=outcome]")).to_have_text("请简要说明情况")
    page.select_option("[name=result]", "changed")
    page.fill("[name=outcome]", "新租客三人已登记")
    page.select_option("[name=visit_outcome]", "verified")
    page.uncheck("[name=gps]")
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")
    expect(page.locator("#act-visit")).to_be_visible()  # the house page is shown
    expect(page.locator("#tasks")).to_have_count(0)
    expect(page.locator("#tasks-badge")).to_have_count(0)
    fa.go(page, "#/tasks")
    expect(page.locator("p#tasks-mine")).to_have_text("暂无")

    queued = fa.outbox(page)
    assert [(e["type"], e["op"]) for e in queued] == [("visit", "create"), ("task", "update")]
    visit_id = queued[0]["record_id"]
    assert queued[1]["fields"]["closed_visit_id"] == visit_id and queued[1]["seq"] > queued[0]["seq"]
    # Closed again after a reload, offline: the outbox and the closed task are still there.
    page.reload()
    fa.unlock(page)
    fa.go(page, f"#/house/{house}")
    expect(page.locator("#act-visit")).to_be_visible()
    expect(page.locator("#tasks")).to_have_count(0)
    assert len(fa.outbox(page)) == 2
    assert [r for r in live_server.requests[before:] if r.path.startswith("/api/")] == []

    context.set_offline(False)
    result = fa.sync(page)
    assert result["ok"] and fa.outbox(page) == [], result
    with Session(live_server.engine) as s:
        task = s.get(Task, uuid.UUID(task_id))
        assert (task.status, task.result, task.closed_visit_id, task.closed_by_id, task.outcome) == (
            "done", "changed", uuid.UUID(visit_id), area.user_id, "新租客三人已登记")
        assert s.get(Visit, uuid.UUID(visit_id)).house_id == uuid.UUID(house)
        coordinator = s.get(User, area.user_id)
        assert changes_by_source(s, scope_for(s, coordinator).house_clause())["public"] == (1, 1)


def test_reassigned_tasks_move_between_mine_and_the_others_and_a_visit_of_today_closes_one(
        context: Any, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    with Session(live_server.engine) as s:
        colleague = f.user(s, f"fa2_{area.tag}", "coordinator", display_name="同事")
        first, second = (s.get(House, uuid.UUID(x)) for x in area.houses)
        first.cell.coordinators.append(colleague)
        s.flush()
        mine = create_task(s, first, "problem", "楼道堆物")
        mine.assignee_id = area.user_id
        theirs = create_task(s, second, "moved_out", "二楼已搬空")
        theirs.assignee_id = colleague.id
        shared = create_task(s, second, "moved_in", "有新住户")
        shared.assignee_id = None
        shared.due_on = local_today() - timedelta(days=2)  # overdue: listed first, marked
        s.commit()
        ids = {k: str(v.id) for k, v in {"mine": mine, "theirs": theirs, "shared": shared}.items()}
        colleague_id = colleague.id

    page = context.new_page()
    fa.app_login(page, area.username)
    fa.go(page, "#/tasks")
    assert _task_ids(page, "#tasks-mine", 1) == [ids["mine"]]
    assert _task_ids(page, "#tasks-cell", 1) == [ids["shared"]]
    assert _task_ids(page, "#tasks-other", 1) == [ids["theirs"]]
    expect(page.locator(f"li[data-task='{ids['shared']}'] .overdue")).to_contain_text("已逾期")
    expect(page.locator("#tasks-badge")).to_have_text("2")
    # On the house page too, the overdue task first.
    fa.go(page, f"#/house/{area.houses[1]}")
    assert _task_ids(page, "#tasks", 2) == [ids["shared"], ids["theirs"]]

    # The grid lead swaps them while the phone is away.
    with Session(live_server.engine) as s:
        reassign(s, s.get(Task, uuid.UUID(ids["mine"])), colleague_id, None)
        reassign(s, s.get(Task, uuid.UUID(ids["theirs"])), area.user_id, None)
        s.commit()
    assert fa.sync(page)["ok"]
    fa.go(page, "#/tasks")
    fa.wait(page, "document.querySelector('#tasks-mine li')?.dataset.task === arg", ids["theirs"])
    assert _task_ids(page, "#tasks-mine", 1) == [ids["theirs"]]
    assert _task_ids(page, "#tasks-other", 1) == [ids["mine"]]
    expect(page.locator("#tasks-badge")).to_have_text("2")

    # Offline: a visit first, then the close offers it (no second visit is made).
    context.set_offline(True)
    house = area.houses[1]
    fa.go(page, f"#/house/{house}/visit")
    page.uncheck("[name=gps]")
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")
    page.locator(f"#tasks li[data-task='{ids['theirs']}']").get_by_role("link", name="办结").click()
    fa.wait(page, "location.hash === arg", f"#/house/{house}/task/{ids['theirs']}/close")
    visit_id = fa.outbox(page)[0]["record_id"]
    assert page.locator("[name=visit]").input_value() == visit_id
    expect(page.locator("#task-new-visit")).to_be_hidden()
    page.select_option("[name=result]", "not_found")
    page.fill("[name=outcome]", "二楼仍有人住，未搬空")
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")
    assert [(e["type"], e["op"]) for e in fa.outbox(page)] == [("visit", "create"), ("task", "update")]
    expect(page.locator("#tasks-badge")).to_have_text("1")

    context.set_offline(False)
    assert fa.sync(page)["ok"] and fa.outbox(page) == []
    with Session(live_server.engine) as s:
        task = s.get(Task, uuid.UUID(ids["theirs"]))
        assert (task.status, task.result, task.closed_visit_id, task.closed_by_id) == (
            "rejected", "not_found", uuid.UUID(visit_id), area.user_id)
