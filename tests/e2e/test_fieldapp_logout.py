"""Logout: refused while changes cannot be synced; otherwise it syncs them, then wipes every
IndexedDB store and the device marker cache, keeps no personal data in any cache, and /app/
asks for a login again (online or not)."""
from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Device, Person, User

CACHES = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    out[name] = [];
    for (const request of await cache.keys()) {
      const body = await (await cache.match(request)).text();
      out[name].push({url: new URL(request.url).pathname, body});
    }
  }
  return out;
}"""


def test_logout_syncs_then_wipes_the_phone(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    house = area.houses[0]
    name, number = f"登出{uuid.uuid4().hex[:4]}", fa.fresh_id()
    fa.block_sync(page)
    fa.add_occupant(page, house, name, number, phone="13955556666")
    filled = fa.idb_contents(page)
    assert filled["gridwalk/person"] >= 2 and filled["gridwalk/outbox"] == 2
    assert "gridwalk-device" in page.evaluate("() => caches.keys()")

    # No network: logging out would lose two changes, so it does not happen.
    fa.go(page, "#/outbox")
    page.click("#logout")
    expect(page.locator("#toast")).to_have_text("还有未同步的数据：请先同步或导出文件交给中心")
    assert fa.idb_contents(page)["gridwalk/outbox"] == 2
    assert page.evaluate("() => location.hash") == "#/outbox"

    fa.unblock_sync(page)
    page.click("#logout")
    fa.wait(page, "location.hash === '#/login'")
    expect(page.locator("#login-go")).to_be_visible()
    with Session(live_server.engine) as s:  # synced on the way out, once
        assert s.scalar(select(func.count()).select_from(Person).where(Person.id_number == number)) == 1
        # ... and the phone's token ended on the server: a copy of it opens nothing any more.
        (device,) = s.scalars(select(Device).join(User, Device.user_id == User.id)
                              .where(User.username == area.username)).all()
        assert device.revoked_at is not None

    left = fa.idb_contents(page)
    assert left and not {k: v for k, v in left.items() if v}, left
    cached = page.evaluate(CACHES)
    assert "gridwalk-device" not in cached
    secrets = [name, number, number[-6:], area.person_name, area.person_id_number, "13955556666", area.codes[0]]
    for cache, entries in cached.items():
        assert entries, cache  # the shell is still there (the app opens offline to its login)
        for entry in entries:
            assert not entry["url"].startswith("/api/"), entry["url"]
            found = [s for s in secrets if s in entry["body"]]
            assert not found, (cache, entry["url"], found)
    assert set(page.evaluate("() => Object.keys(localStorage)")) <= {"gw-lang"}
    assert page.evaluate("() => window.gridwalk.sync('after-logout')") == {"skipped": "locked"}

    # Opened again, online then offline: a login form, nothing of the coordinator's.
    for offline in (False, True):
        page.context.set_offline(offline)
        page.goto("/app/")
        fa.wait_ready(page)
        expect(page.locator("#login-go")).to_be_visible()
        expect(page.locator("#view")).not_to_contain_text(name)
    page.context.set_offline(False)
