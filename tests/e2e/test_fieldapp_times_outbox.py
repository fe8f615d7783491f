"""Times in the registry's zone whatever the phone's own (issue 16 §3); the 待同步 screen follows
every sync, lists what waits in words — refused and blocked first — and the bottom bar counts
it (§4)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Visit

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Any:
    # A phone set to California time: 16 hours behind Shanghai in December.
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="America/Los_Angeles",
                              viewport={"width": 360, "height": 740})
    yield ctx
    ctx.close()


def test_times_are_the_registrys_whatever_the_phones_zone(context: Any, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server, houses=2)
    # 23:19 in Shanghai yesterday: 15:19 UTC, 07:19 the day before on the phone's own clock.
    day = datetime.now(SHANGHAI).date() - timedelta(days=1)
    at = datetime(day.year, day.month, day.day, 23, 19, tzinfo=SHANGHAI)
    with Session(live_server.engine) as s:
        s.add(Visit(house_id=uuid.UUID(area.houses[0]), visited_at=at.astimezone(timezone.utc), outcome="verified",
                    user_id=area.user_id))
        s.commit()
    page = context.new_page()
    fa.app_login(page, area.username)
    assert page.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone") == "America/Los_Angeles"
    assert page.locator('meta[name="gw-tz"]').get_attribute("content") == "Asia/Shanghai"
    fa.go(page, f"#/house/{area.houses[0]}")
    expect(page.locator("main")).to_contain_text(f"{day.isoformat()} 23:19 核实")
    # The last sync, in the same zone.
    fa.go(page, "#/outbox")
    last = datetime.fromisoformat(fa.last_sync(page)["at"].replace("Z", "+00:00")).astimezone(SHANGHAI)
    expect(page.locator("#last-sync")).to_contain_text(last.strftime("%Y-%m-%d %H:%M"))
    # "Today" is Shanghai's: the add form proposes it as the move-in date.
    fa.go(page, f"#/house/{area.houses[1]}/add-person")
    expect(page.locator("[name=start_date]")).to_have_value(datetime.now(SHANGHAI).date().isoformat())


def test_the_outbox_screen_follows_the_sync_and_says_what_waits(context: Any, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server, houses=2)
    page = context.new_page()
    fa.app_login(page, area.username)
    context.set_offline(True)
    name = f"待传{area.tag}"
    fa.add_occupant(page, area.houses[1], name, fa.fresh_id())
    fa.go(page, f"#/house/{area.houses[0]}/visit")
    page.uncheck("[name=gps]")
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{area.houses[0]}")
    # A change the server will refuse, queued as an older app would (its form did not check).
    bad = fa.fresh_id()
    bad = bad[:17] + ("1" if bad[17] != "1" else "2")
    fa.queue(page, fa.occupant_mutations(area.houses[0], f"号错{area.tag}", bad))
    expect(page.locator("#outbox-badge")).to_have_text("5")
    fa.go(page, "#/outbox")
    page.click("#sync-now")  # offline: it fails, and says so
    expect(page.locator("#last-sync")).to_contain_text("失败（无网络）")
    waiting = page.locator("#waiting li")
    expect(waiting).to_have_count(5)
    expect(waiting.nth(0)).to_contain_text(f"新增人员 · {name} · 谷阳北路101号1号楼201室")
    expect(waiting.nth(1)).to_contain_text(f"登记入住 · {name} · 谷阳北路101号1号楼201室")
    expect(waiting.nth(2)).to_contain_text("登记走访 · 谷阳北路100号1号楼101室")
    expect(waiting.nth(0).locator(".when")).to_contain_text(datetime.now(SHANGHAI).strftime("%Y-%m-%d"))

    context.set_offline(False)  # the app syncs by itself on `online`; the screen follows
    expect(page.locator("#pending-count")).to_have_text("0", timeout=10_000)
    expect(page.locator("#rejected-count")).to_have_text("1")
    expect(page.locator("#blocked-count")).to_have_text("1")
    expect(page.locator("#last-sync")).to_contain_text("成功")
    # Refused first, with the reason at the field and what it holds back; then nothing waits.
    headings = page.locator("main h2").all_inner_texts()
    assert headings[0].startswith("需修改") and headings[-1].startswith("等待上传"), headings
    form = page.locator("form.rejected")
    expect(form).to_contain_text(f"新增人员 · 号错{area.tag}")
    expect(form.locator('[data-error-for="id_number"]')).to_contain_text("校验")
    expect(form.locator(".blocked-group")).to_contain_text(f"登记入住 · 号错{area.tag}")
    expect(page.locator("#waiting")).to_have_text("暂无")
    expect(page.locator("#outbox-badge")).to_have_text("2")
