"""The grid lead's field view (issue 9): a lead logs into the same field app, sees per cell this
month's coverage, unvisited houses, open tasks and what waits for review, and returns an entry
with a reason offline; back online, the server has it returned by the lead."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Cell, House, Residency, Review, User, Visit
from webapp.models.enums import ReviewKind
from webapp.registry.review import open_review
from webapp.registry.tasks import create_task
from webapp.base.timeutil import utcnow


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Any:
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 360, "height": 740})
    yield ctx
    ctx.close()


def lead_area(server: LiveServer) -> Any:
    """The coordinator's area of fa.coordinator_area, with a grid lead over the cell, review
    required by the committee, the first occupant's registration pending review, the first
    house visited this month and a task at the second."""
    area = fa.coordinator_area(server)
    with Session(server.engine) as s:
        cell = s.get(Cell, uuid.UUID(area.cell_id))
        lead = f.user(s, f"gl_{area.tag}", "grid_lead", display_name="网格长")
        cell.grid_lead_id = lead.id
        cell.committee.review_required = True
        residency = s.scalar(select(Residency).where(Residency.person_id == uuid.UUID(area.person_id)))
        review = open_review(s, residency, ReviewKind.REGISTRATION, s.get(User, area.user_id))
        assert review is not None
        s.add(Visit(house_id=uuid.UUID(area.houses[0]), visited_at=utcnow(), outcome="verified", user_id=area.user_id))
        task = create_task(s, s.get(House, uuid.UUID(area.houses[1])), "moved_in", "新住户")
        s.commit()
        area.lead, area.lead_id, area.review_id, area.task_id = lead.username, lead.id, str(review.id), str(task.id)
    return area


def test_lead_sees_the_cell_and_returns_a_registration_offline(context: Any, live_server: LiveServer) -> None:
    area = lead_area(live_server)
    page = context.new_page()
    fa.app_login(page, area.lead)
    context.set_offline(True)
    page.reload()
    fa.unlock(page)
    figures = page.locator(f"dl[data-cell='{area.cell_id}']")
    expect(figures.locator(".coverage")).to_have_text("1/2（50%）")
    expect(figures.locator(".unvisited")).to_have_text("1")
    expect(figures.locator(".open-tasks")).to_have_text("1")
    expect(figures.locator(".pending-reviews")).to_have_text("1")

    page.get_by_role("link", name="审核与详情").click()
    fa.wait(page, "location.hash === arg", f"#/lead/cell/{area.cell_id}")
    expect(page.locator("#unvisited li")).to_have_count(1)
    expect(page.locator(f"#unvisited li[data-house='{area.houses[1]}']")).to_be_visible()
    expect(page.locator(f"#lead-tasks li[data-task='{area.task_id}']")).to_be_visible()
    item = page.locator(f"#reviews-pending li[data-review-id='{area.review_id}']")
    expect(item).to_contain_text(area.person_name)
    expect(item).to_contain_text("新登记")
    # Returning needs a reason, said in Chinese.
    item.get_by_role("button", name="退回").click()
    expect(item.locator("[data-error-for=reason]")).to_have_text("退回须说明原因")
    item.locator("[name=reason]").fill("身份证号与户籍地址不符，请核对")
    item.get_by_role("button", name="退回").click()
    expect(page.locator(f"li[data-review-id='{area.review_id}']")).to_have_count(0)
    expect(page.locator(".pending-reviews")).to_have_text("0")
    [entry] = fa.outbox(page)
    assert (entry["type"], entry["op"], entry["fields"]) == (
        "review", "update", {"status": "returned", "reason": "身份证号与户籍地址不符，请核对"})

    context.set_offline(False)
    result = fa.sync(page)
    assert result["ok"] and fa.outbox(page) == [], result
    with Session(live_server.engine) as s:
        review = s.get(Review, uuid.UUID(area.review_id))
        assert (review.status, review.reason, review.decided_by_id) == (
            "returned", "身份证号与户籍地址不符，请核对", area.lead_id)


def test_lead_screens_are_accessible_at_360px(browser: Browser, live_server: LiveServer) -> None:
    from tests.e2e.conftest import run_axe
    from tests.e2e.test_fieldapp_a11y import _check

    area = lead_area(live_server)
    # bypass_csp only so that axe can be injected (see run_axe).
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", bypass_csp=True, viewport={"width": 360, "height": 740})
    page = ctx.new_page()
    try:
        fa.app_login(page, area.lead)
        for screen in ("#/cells", f"#/lead/cell/{area.cell_id}", "#/tasks"):
            fa.go(page, screen)
            page.wait_for_timeout(150)
            assert _check(page) == [], screen
        # A returned reason without text shows its error accessibly too.
        fa.go(page, f"#/lead/cell/{area.cell_id}")
        page.locator("#reviews-pending li").get_by_role("button", name="退回").click()
        expect(page.locator("[data-error-for=reason]")).to_have_text("退回须说明原因")
        assert run_axe(page) == []
        page.click("#lang")
        fa.go(page, "#/cells")
        fa.go(page, f"#/lead/cell/{area.cell_id}")
        page.locator("#reviews-pending li").get_by_role("button", name="Return").click()
        expect(page.locator("[data-error-for=reason]")).to_have_text("Say why it is returned")
        assert _check(page) == []
    finally:
        ctx.close()


def test_a_move_out_under_review_names_the_person_who_left(context: Any, live_server: LiveServer) -> None:
    """The person who moved out is no longer in the lead's records on the phone, yet the
    review says who it is (the name the server kept on the review)."""
    area = lead_area(live_server)
    with Session(live_server.engine) as s:
        cell = s.get(Cell, uuid.UUID(area.cell_id))
        leaver = f.person(s, name=f"搬走{area.tag[:4]}")
        stay = f.residency(s, leaver, s.get(House, uuid.UUID(area.houses[1])))
        stay.end_date = utcnow().date()
        review = open_review(s, stay, ReviewKind.MOVE_OUT, s.get(User, area.user_id))
        assert review is not None and cell is not None
        s.commit()
        review_id, leaver_id = str(review.id), str(leaver.id)
    page = context.new_page()
    fa.app_login(page, area.lead)
    stored = page.evaluate("async (id) => (await (await import('/static/pwa/db.js')).db()).get('person', id)", leaver_id)
    assert stored is None  # not on the phone: no open residency in the lead's cells
    fa.go(page, f"#/lead/cell/{area.cell_id}")
    item = page.locator(f"#reviews-pending li[data-review-id='{review_id}']")
    expect(item).to_contain_text(f"搬走{area.tag[:4]}")
    expect(item).to_contain_text("迁出")
