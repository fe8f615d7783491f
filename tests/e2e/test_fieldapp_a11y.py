"""The field app's main screens: no WCAG 2 A/AA violations (axe), usable at 360 px, large tap
targets, Chinese by default with English one tap away."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer, run_axe


@pytest.fixture
def narrow(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    # bypass_csp only so that axe can be injected (see run_axe).
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", bypass_csp=True,
                                  viewport={"width": 360, "height": 740})
    yield context.new_page()
    context.close()


def _check(page: Page) -> list[Any]:
    problems: list[Any] = [v for v in run_axe(page)]
    width = page.evaluate("() => document.documentElement.scrollWidth")
    if width > 360:
        problems.append(("too wide", width))
    small = page.evaluate("""() => [...document.querySelectorAll('main button, main a.button, main input, main select, nav a')]
      .filter((e) => e.offsetParent !== null).map((e) => [e.textContent || e.name, e.getBoundingClientRect().height])
      .filter(([, h]) => h < 44)""")
    return problems + [("small target", s) for s in small]


def _task(server: LiveServer, house_id: str) -> str:
    """An open task at the house, overdue (so the list shows every kind of tag)."""
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from webapp.models import House
    from webapp.registry.tasks import create_task
    from webapp.base.timeutil import local_today

    with Session(server.engine) as s:
        task = create_task(s, s.get(House, uuid.UUID(house_id)), "moved_in", "新搬来两位租客")
        task.due_on = local_today() - timedelta(days=1)
        s.commit()
        return str(task.id)


def test_main_screens_are_accessible_at_360px(narrow: Page, live_server: LiveServer) -> None:
    page = narrow
    area = fa.coordinator_area(live_server)
    page.goto("/app/")
    fa.wait_ready(page)
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    assert _check(page) == []  # the login screen
    task = _task(live_server, area.houses[0])
    fa.app_login(page, area.username)
    screens = ["#/cells", f"#/cell/{area.cell_id}", f"#/house/{area.houses[0]}", f"#/house/{area.houses[0]}/add-person",
               f"#/house/{area.houses[0]}/visit", "#/search", "#/scan", "#/outbox", "#/tasks",
               f"#/house/{area.houses[0]}/task/{task}/close"]
    for screen in screens:
        fa.go(page, screen)
        page.wait_for_timeout(150)
        assert _check(page) == [], screen
    page.click("#lang")
    expect(page.locator("#tab-outbox")).to_have_text("Outbox")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    # Five tabs, one with a badge, still fit at 360 px in English; the close form's errors in English.
    expect(page.locator("#tab-tasks")).to_have_text("Tasks1")
    fa.go(page, f"#/house/{area.houses[0]}/task/{task}/close")
    page.click("main button[type=submit]")
    expect(page.locator("[data-error-for=result]")).to_have_text("Choose the result")
    expect(page.locator("[data-error-for=outcome]")).to_have_text("Say briefly what was found")
    assert _check(page) == []
    fa.go(page, "#/search")
    page.fill("#q", area.codes[0][-6:])
    page.click("main button[type=submit]")
    expect(page.locator("#results li")).to_have_count(1)
    for query in (area.person_name, area.person_id_number[-6:], area.person_id_number[-4:], area.person_id_number):
        page.fill("#q", query)
        page.click("main button[type=submit]")
        expect(page.locator("#results li", has_text=area.person_name)).to_have_count(1)
    # Lists show the number masked; the full number is stored only encrypted.
    expect(page.locator("#results")).not_to_contain_text(area.person_id_number)
