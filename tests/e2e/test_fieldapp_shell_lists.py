"""The GB/T 2260 lists (/app/area-codes.json, /app/regions.json: 45 KiB gzip, more than a third
of the shell) load when a form first needs them, not when the app opens (bench figure 5), and
still from the service worker's cache with no signal: the ID number's "unknown area" warning and
the hukou district picker work offline on the first form opened after login."""
from __future__ import annotations

from playwright.sync_api import BrowserContext, expect

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer

LISTS = ("/app/area-codes.json", "/app/regions.json")
UNKNOWN_AREA = "123456198510100037"  # tests/vectors/validation.json: unknown-area-warns


def test_the_lists_load_with_the_first_form_offline_not_at_open(context: BrowserContext, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url.split(live_server.url, 1)[-1]))
    fa.app_login(page, area.username)
    page.reload()  # the next opening, from the service worker's cache
    fa.unlock(page)
    assert not [url for url in asked if url in LISTS], asked

    context.set_offline(True)
    fa.go(page, f"#/house/{area.houses[0]}/add-person")
    page.fill("[name=id_number]", UNKNOWN_AREA)
    page.locator("[name=id_number]").dispatch_event("change")
    expect(page.locator("form .hint", has_text="123456")).to_contain_text("不在行政区划代码表中")
    page.locator("#hukou select").first.select_option(label="上海市")
    expect(page.locator("[name=hukou_region] option[value='310117']")).to_have_count(1)
    assert sorted({url for url in asked if url in LISTS}) == sorted(LISTS)  # the form asked, the cache answered
