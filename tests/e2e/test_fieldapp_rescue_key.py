"""The server's key the rescue file is sealed to (docs/sync.md §6.1, static/pwa/rescuekey.js):
it comes with the login's answer, and a sync asks for it again only when it is a day old — one
request a day, none added to every sync; an answer that is not a good key replaces nothing. A
phone that holds no key (not online since sealing came) exports the plain file, as before."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from sync import sealed
from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer

KEY_PATH = "/api/rescue-key"
# The held key's last look, moved back by `hours` (as if a day had passed on the phone).
BACKDATE = """async (hours) => {
  const db = await import('/static/pwa/db.js');
  const kept = await db.getMeta('rescue_key');
  await db.setMeta('rescue_key', {...kept, checked_at: new Date(Date.now() - hours * 3600000).toISOString()});
}"""


def _asked(server: LiveServer, since: int) -> int:
    return sum(1 for r in server.requests[since:] if r.path == KEY_PATH)


def test_the_key_comes_with_the_login_and_is_asked_for_once_a_day(page: Page, live_server: LiveServer) -> None:
    key = sealed.server_key(live_server.app.config["SECRET_KEY"])
    area = fa.coordinator_area(live_server)
    seen = len(live_server.requests)
    fa.app_login(page, area.username)  # registers, then syncs
    held = fa.meta(page, "rescue_key")
    assert isinstance(held, dict) and {"kid": held["kid"], "jwk": held["jwk"]} == key.public(), held
    assert _asked(live_server, seen) == 0  # the registration's answer brought it

    # A day later the next sync asks once; the syncs after it do not.
    page.evaluate(BACKDATE, 25)
    seen = len(live_server.requests)
    assert fa.sync(page)["ok"]
    assert fa.sync(page)["ok"]
    assert _asked(live_server, seen) == 1
    again = fa.meta(page, "rescue_key")
    assert isinstance(again, dict) and again["kid"] == key.kid and again["checked_at"] > held["checked_at"]

    # An answer that is no key to seal to (its kid is not its own) replaces nothing, and counts
    # as the day's look.
    def wrong(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps({**key.public(), "kid": "0" * 16}))

    page.context.route(f"**{KEY_PATH}", wrong)
    page.evaluate(BACKDATE, 25)
    asked: list[str] = []  # answered by the route: the server's log never sees it
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith(KEY_PATH) else None)
    assert fa.sync(page)["ok"]
    assert fa.sync(page)["ok"]
    assert len(asked) == 1, asked
    kept = fa.meta(page, "rescue_key")
    assert isinstance(kept, dict) and {"kid": kept["kid"], "jwk": kept["jwk"]} == key.public(), kept
    page.context.unroute(f"**{KEY_PATH}")


def test_a_phone_without_the_key_exports_the_plain_file(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    # As a phone updated while offline: no key held, and none to be had.
    page.context.route(f"**{KEY_PATH}", lambda route: route.abort())
    page.evaluate("async () => { const {db} = await import('/static/pwa/db.js'); await (await db()).delete('meta', 'rescue_key'); }")
    fa.block_sync(page)
    name, number, phone = f"明文{uuid.uuid4().hex[:4]}", fa.fresh_id(), f"139{uuid.uuid4().int % 10**8:08d}"
    fa.add_occupant(page, area.houses[0], name, number, phone=phone)
    fa.sync(page)  # no signal for the sync: no key either
    assert fa.meta(page, "rescue_key") is None

    fa.go(page, "#/outbox")
    with page.expect_download() as download:
        page.click("#export")
    expect(page.locator("#toast")).to_have_text("已导出文件，请交给中心")
    assert not download.value.suggested_filename.endswith(".sealed.json"), download.value.suggested_filename
    handed = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert not sealed.is_sealed(handed)
    (person,) = [m for m in handed["mutations"] if m["type"] == "person"]
    assert (person["fields"]["name"], person["fields"]["id_number"], person["fields"]["phone"]) == (name, number, phone)
    assert len(handed["mutations"]) == 2
    # What the file holds is recorded as before: logout may then wipe it.
    exported = fa.meta(page, "exported")
    assert isinstance(exported, dict) and exported["count"] == 2
    assert exported["last_seq"] == max(m["seq"] for m in handed["mutations"])
    page.context.unroute(f"**{KEY_PATH}")
    fa.unblock_sync(page)
