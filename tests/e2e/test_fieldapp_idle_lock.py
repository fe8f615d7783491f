"""After five idle minutes the app locks: the data key leaves memory, the records leave the
screen, and only the PIN opens it again. A tap or key press restarts the count. Time is the
page's fake clock (Playwright's page.clock), so the test waits no minutes."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer


def test_idle_app_locks_behind_the_pin(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    page.clock.install()  # before the app loads: its idle timer runs on this clock
    fa.app_login(page, area.username)
    house = area.houses[0]
    fa.go(page, f"#/house/{house}")
    occupant = page.locator("#occupants .name", has_text=area.person_name)
    expect(occupant).to_be_visible()

    page.clock.fast_forward("04:00")
    expect(occupant).to_be_visible()
    page.keyboard.press("Shift")  # the coordinator is still at it: the count starts again
    page.clock.fast_forward("04:00")
    expect(occupant).to_be_visible()
    assert page.locator("#unlock-go").count() == 0

    page.clock.fast_forward("01:30")  # five minutes and a half since the key press
    expect(page.locator("#unlock-go")).to_be_visible()
    expect(page.locator("h1")).to_have_text("已锁定")
    expect(page.locator("#view")).not_to_contain_text(area.person_name)
    assert page.evaluate("() => window.gridwalk.sync('idle')") == {"skipped": "locked"}
    # Navigating does not get around it.
    fa.go(page, f"#/house/{house}/person/{area.person_id}/edit")
    expect(page.locator("#unlock-go")).to_be_visible()
    expect(page.locator("[name=id_number]")).to_have_count(0)

    page.fill("[name=pin]", "0000")
    page.click("#unlock-go")
    expect(page.locator('[data-error-for="pin"]')).to_have_text("PIN码错误，还可尝试4次")
    fa.unlock(page)
    expect(page.locator("[name=id_number]")).to_have_value(area.person_id_number)
