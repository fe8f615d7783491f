"""A tab still on the old IndexedDB version while a newer app upgrades the database: the old tab
closes its connection (so the upgrade is not blocked), says to reload without reloading by
itself (a form being typed stays), saves nothing more, and the outbox comes through intact."""
from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer

RELOAD_ZH = "应用已在其他页面升级：请重新加载本页（待同步数据已保存）"

# What a newer release's db.js does: open version 2 and add a store. It waits while an old
# connection stays open, so give up after a few seconds and say "blocked".
UPGRADE = """async (url) => {
  const {openDB} = await import(url);
  let blocked = false;
  const opening = openDB('gridwalk', 2, {upgrade(d) { d.createObjectStore('probe'); }, blocked() { blocked = true; }});
  const d = await Promise.race([opening, new Promise((ok) => setTimeout(() => ok(null), 5000))]);
  if (!d) return {blocked};
  window.__newer = d;
  return {blocked, version: d.version, stores: [...d.objectStoreNames],
          outbox: (await d.getAll('outbox')).map((e) => [e.type, e.state])};
}"""
OUTBOX = "async () => (await window.__newer.getAll('outbox')).length"


def test_old_tab_steps_aside_for_a_db_upgrade(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    house = area.houses[0]
    fa.block_sync(page)
    fa.add_occupant(page, house, f"升级{uuid.uuid4().hex[:4]}", fa.fresh_id())
    assert len(fa.outbox(page)) == 2
    # The coordinator is half-way through the next occupant when the new version arrives.
    fa.go(page, f"#/house/{house}/add-person")
    page.fill("[name=name]", "正在填写")
    page.evaluate("() => { window.__sameDocument = true; }")
    idb_url = page.evaluate("() => document.querySelector('meta[name=gw-idb]').content")

    newer = page.context.new_page()
    newer.goto("/login")  # another page of the origin, standing in for the new release
    upgraded = newer.evaluate(UPGRADE, idb_url)
    assert upgraded.get("version") == 2, upgraded  # not blocked: the old tab closed its connection
    assert "probe" in upgraded["stores"] and "outbox" in upgraded["stores"]
    assert sorted(upgraded["outbox"]) == [["person", "pending"], ["residency", "pending"]]

    # The old tab says to reload, and did not reload: the form and its text are still there.
    expect(page.locator("#db-outdated")).to_contain_text(RELOAD_ZH)
    assert page.evaluate("() => window.__sameDocument") is True
    expect(page.locator("[name=name]")).to_have_value("正在填写")
    # Saving from the old tab cannot write half a change into the upgraded database.
    page.fill("[name=id_number]", fa.fresh_id())
    with page.expect_event("pageerror") as failed:  # the save is refused: the database is closed
        page.click("button[type=submit]")
    assert "reload" in str(failed.value)
    assert page.evaluate("() => location.hash") == f"#/house/{house}/add-person"
    assert newer.evaluate(OUTBOX) == 2

    # Reloaded while still the old code: the same advice (not a crash), and the outbox is intact.
    newer.evaluate("() => window.__newer.close()")
    page.reload()
    expect(page.locator("#db-outdated")).to_contain_text(RELOAD_ZH)
    reopened = newer.evaluate(UPGRADE, idb_url)
    assert reopened.get("version") == 2 and len(reopened["outbox"]) == 2, reopened
    fa.unblock_sync(page)
