"""Review (审核) between two phones (issue 9): where the committee requires review, an occupant a
coordinator adds offline syncs as "待审核"; the grid lead returns it with a reason from the lead's
phone; the coordinator's phone shows "已退回" with the reason (house page and 待办), the
coordinator resubmits, the lead approves, and the tag is gone."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from tests.e2e.test_fieldapp_a11y import _check
from webapp.models import Cell, Person, Review

REASON = "证件号码与本人不符，请核对后重新提交"


@pytest.fixture
def phones(browser: Browser, live_server: LiveServer) -> Any:
    # bypass_csp only so that axe can be injected on the coordinator's screens (see run_axe).
    contexts = [browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 360, "height": 740},
                                    bypass_csp=i == 0) for i in range(2)]
    yield [c.new_page() for c in contexts]
    for c in contexts:
        c.close()


def _review(server: LiveServer, person_name: str) -> Review:
    with Session(server.engine) as s:
        person = s.scalar(select(Person).where(Person.name == person_name))
        review = s.scalar(select(Review).where(Review.person_id == person.id))
        s.expunge_all()
        return review


def _occupant(page: Page, name: str) -> Any:
    return page.locator("#occupants li.occupant", has_text=name)


def test_a_returned_registration_reaches_the_coordinator_and_is_resubmitted(phones: list[Page], live_server: LiveServer) -> None:
    coordinator, lead = phones
    area = fa.coordinator_area(live_server)
    with Session(live_server.engine) as s:
        cell = s.get(Cell, uuid.UUID(area.cell_id))
        cell.committee.review_required = True
        lead_user = f.user(s, f"gr_{area.tag}", "grid_lead")
        cell.grid_lead_id = lead_user.id
        s.commit()
        lead_name, lead_id = lead_user.username, lead_user.id
    house, name = area.houses[1], f"新租客{area.tag}"

    fa.app_login(coordinator, area.username)
    coordinator.context.set_offline(True)
    fa.add_occupant(coordinator, house, name, fa.fresh_id())
    coordinator.context.set_offline(False)
    assert fa.sync(coordinator)["ok"] and fa.outbox(coordinator) == []
    review = _review(live_server, name)
    assert (review.kind, review.status, review.submitted_by_id) == ("registration", "pending", area.user_id)
    fa.go(coordinator, "#/cells")
    fa.go(coordinator, f"#/house/{house}")
    expect(_occupant(coordinator, name).locator("[data-review=pending]")).to_have_text("待审核")

    # The lead, on their own phone, returns it with a reason.
    fa.app_login(lead, lead_name)
    fa.go(lead, f"#/lead/cell/{area.cell_id}")
    item = lead.locator(f"#reviews-pending li[data-review-id='{review.id}']")
    item.locator("[name=reason]").fill(REASON)
    item.get_by_role("button", name="退回").click()
    expect(item).to_have_count(0)
    assert fa.sync(lead)["ok"] and fa.outbox(lead) == []
    assert _review(live_server, name).status == "returned"

    # The coordinator's phone learns it: the reason at the occupant and in 待办, with the badge.
    assert fa.sync(coordinator)["ok"]
    fa.go(coordinator, "#/cells")
    fa.go(coordinator, f"#/house/{house}")
    occupant = _occupant(coordinator, name)
    expect(occupant.locator("[data-review=returned]")).to_have_text("已退回")
    expect(occupant).to_contain_text(REASON)
    expect(coordinator.locator("#tasks-badge")).to_have_text("1")
    assert _check(coordinator) == []
    fa.go(coordinator, "#/tasks")
    returned = coordinator.locator(f"#reviews-returned li[data-review-id='{review.id}']")
    expect(returned).to_contain_text(REASON)
    expect(returned).to_contain_text(name)
    assert _check(coordinator) == []
    # Fixed (offline) and resubmitted.
    coordinator.context.set_offline(True)
    returned.get_by_role("button", name="重新提交").click()
    expect(coordinator.locator("#reviews-returned")).to_have_count(0)
    expect(coordinator.locator("#tasks-badge")).to_have_count(0)
    [entry] = fa.outbox(coordinator)
    assert (entry["type"], entry["fields"], entry["base"]) == ("review", {"status": "pending"}, {"status": "returned"})
    coordinator.context.set_offline(False)
    assert fa.sync(coordinator)["ok"] and fa.outbox(coordinator) == []
    again = _review(live_server, name)
    assert (again.status, again.decided_by_id) == ("pending", None)

    # The lead approves; the coordinator's house page shows no review state any more.
    assert fa.sync(lead)["ok"]
    fa.go(lead, "#/cells")
    fa.go(lead, f"#/lead/cell/{area.cell_id}")
    lead.locator(f"#reviews-pending li[data-review-id='{review.id}']").get_by_role("button", name="审核通过").click()
    expect(lead.locator(f"li[data-review-id='{review.id}']")).to_have_count(0)
    assert fa.sync(lead)["ok"]
    approved = _review(live_server, name)
    assert (approved.status, approved.decided_by_id) == ("approved", lead_id)
    assert fa.sync(coordinator)["ok"]
    fa.go(coordinator, f"#/house/{house}")
    expect(_occupant(coordinator, name)).to_be_visible()
    expect(_occupant(coordinator, name).locator("[data-review]")).to_have_count(0)
