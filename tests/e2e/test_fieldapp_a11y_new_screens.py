"""The screens issue 16 added or changed — the cell page with its filters, the 待同步 list and
its notices, the warning at the door, the map — pass axe (WCAG 2 A/AA) at 360 px, in Chinese
and in English, with tap targets of at least 44 px."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from tests.e2e.test_fieldapp_a11y import _check
from tests.e2e.test_fieldapp_map import map_area


@pytest.fixture
def narrow(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    # bypass_csp only so that axe can be injected (see run_axe).
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", bypass_csp=True,
                                  viewport={"width": 360, "height": 740}, geolocation={"latitude": 31.0, "longitude": 121.2},
                                  permissions=["geolocation"])
    yield context.new_page()
    context.close()


def test_new_screens_are_accessible_at_360px(narrow: Page, live_server: LiveServer) -> None:
    page = narrow
    area = map_area(live_server, houses=4)
    fa.app_login(page, area.username)
    page.context.set_offline(True)
    fa.add_occupant(page, area.houses[1], "无障碍", fa.fresh_id(), phone="13912340000")
    for lang in ("zh", "en"):
        if lang == "en":
            page.click("#lang")
        fa.go(page, f"#/cell/{area.cells[0]}")
        page.click("button[data-filter=unvisited]")
        assert _check(page) == [], (lang, "cell")
        fa.go(page, "#/outbox")
        expect(page.locator("#waiting li")).to_have_count(2)
        assert _check(page) == [], (lang, "outbox")
        fa.go(page, f"#/house/{area.houses[1]}/add-person")
        page.fill("[name=phone]", "13912340000")
        expect(page.locator("#phone-known")).to_be_visible()
        assert _check(page) == [], (lang, "door")
        fa.go(page, f"#/cell/{area.cells[0]}/map")
        fa.wait(page, "document.querySelectorAll('.house-dot').length === 4")
        assert _check(page) == [], (lang, "map")
