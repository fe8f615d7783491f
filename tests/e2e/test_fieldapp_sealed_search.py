"""Search by the last digits of an ID number or a phone with the numbers sealed at rest: it
answers after unlock (also after a reload, from the sealed index), and finds nothing while the
phone is locked — the numbers are opened only in memory, and dropped on lock."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from tests.e2e.test_fieldapp_at_rest import full_residents

SEARCH = "async (q) => { const r = await (await import('/static/pwa/store.js')).search(q); return {names: r.people.map((p) => p.name), locked: Boolean(r.locked)}; }"


def found(page: Page, query: str) -> list[str]:
    return page.evaluate(SEARCH, query)["names"]


def test_search_by_last_digits_after_unlock_and_not_while_locked(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    residents = full_residents(live_server, area.houses[0], area.tag)
    fa.app_login(page, area.username)
    # One added on this phone, still queued: searchable at once too.
    fa.block_sync(page)
    name, number, phone = f"新搜{area.tag}", fa.fresh_id(), "13712345678"
    fa.add_occupant(page, area.houses[1], name, number, phone=phone)

    def every_way() -> None:
        for r in [*residents, {"name": name, "id_number": number, "phone": phone}]:
            for k in (4, 5, 6):
                assert r["name"] in found(page, r["id_number"][-k:]), (r, k)
            assert r["name"] in found(page, r["phone"][-4:]), r
            assert found(page, r["id_number"]) == [r["name"]]
        assert found(page, "00000000000") == []

    every_way()
    # Through the search page, as a coordinator would.
    fa.go(page, "#/search")
    page.fill("#q", residents[0]["id_number"][-6:])
    page.click("form[role=search] button")
    expect(page.locator("#results")).to_contain_text(residents[0]["name"])

    # Locked: nothing is found, and the search page asks for the PIN.
    page.evaluate("() => window.gridwalk.lock()")
    answer = page.evaluate(SEARCH, residents[0]["id_number"][-4:])
    assert answer == {"names": [], "locked": True}
    fa.go(page, "#/search")
    expect(page.locator("#unlock-go")).to_be_visible()
    expect(page.locator("#q")).to_have_count(0)

    # A new session opens the sealed index again (no other copy of the numbers exists).
    page.reload()
    fa.unlock(page)
    every_way()
    # After the queued occupant reaches the server and comes back in a pull, still found.
    fa.unblock_sync(page)
    assert fa.sync(page)["ok"]
    assert fa.outbox(page) == []
    page.evaluate("() => window.dispatchEvent(new CustomEvent('gw:outbox'))")  # the index is rebuilt
    every_way()
