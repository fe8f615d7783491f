"""Protocol 2 in the field app: pushes gzip-compressed by the browser (CompressionStream), no
echo (the pull after a push carries none of the phone's own writes, yet the phone holds what
the server set), and the old app (protocol 1, 0.6.0) still syncing against the new server."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import HERE, LiveServer
from webapp.models import Person

# App 0.6.0's sync modules (protocol 1), the offline-search journal its sync writes to
# (digits.js: 0.6.0 records a merged person as an alias there) and the outbox its pulls put
# back on top (outbox.js: applyLocal took a store, not rows.js's Rows), as that release shipped
# them (commit 0a5fb02): served in place of today's, the rest of the app unchanged.
OLD_APP = HERE / "app_0_6"


def _visits(house_id: str, n: int) -> list[dict[str, Any]]:
    fields = {"house_id": house_id, "visited_at": "2026-11-26T08:00:00Z", "outcome": "verified", "note": "入户核查"}
    return [{"type": "visit", "op": "create", "record_id": str(uuid.uuid4()), "base_version": None,
             "fields": fields, "local": fields} for _ in range(n)]


def _row(page: Page, store: str, rid: str) -> Any:
    return page.evaluate("""async ([store, id]) => {
      const {openDB} = await import(document.querySelector('meta[name="gw-idb"]').content);
      const d = await openDB('gridwalk'); const row = await d.get(store, id); d.close();
      return store === 'person' && row ? (await import('/static/pwa/personal.js')).opened(row) : row ?? null;
    }""", [store, rid])


def _pages(page: Page) -> list[Any]:
    """The answers that carry pull pages: pulls, and pushes (docs/sync.md §3)."""
    pages: list[Any] = []
    page.on("response", lambda r: pages.append(r) if "/api/sync/pu" in r.url else None)
    return pages


def _page_of(response: Any) -> dict[str, Any] | None:
    body = response.json()
    return body.get("pull") if "/api/sync/push" in response.url else body


def test_the_new_app_compresses_its_pushes_and_gets_no_echo(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    occupant = fa.occupant_mutations(area.houses[0], "回声测试", fa.fresh_id())
    seen = len(live_server.requests)
    responses = _pages(page)
    fa.queue(page, occupant + _visits(area.houses[1], 5))  # saving starts a sync, too
    result = fa.sync(page)
    assert result["ok"] and fa.outbox(page) == [], result
    pushes = [r for r in live_server.requests[seen:] if r.path == "/api/sync/push"]
    assert pushes and all(r.content_encoding == "gzip" for r in pushes), pushes
    pulls = [r for r in live_server.requests[seen:] if r.path == "/api/sync/pull"]
    assert all("protocol=2" in r.query for r in pulls)
    assert "zstd" in pushes[0].accept_encoding or "gzip" in pushes[0].accept_encoding
    bodies = [b for b in map(_page_of, responses) if b is not None]
    assert any(b.get("echoes", 0) >= 7 for b in bodies), bodies
    mine = {m["record_id"] for m in occupant}
    assert not any(rid in mine for b in bodies for t in b["changes"].values() for rid in t.get("id", []))
    # What the server set came with the push's answer: the version, and sex and birth date.
    person = _row(page, "person", occupant[0]["record_id"])
    with Session(live_server.engine) as s:
        stored = s.get(Person, uuid.UUID(occupant[0]["record_id"]))
        assert stored is not None
        assert (person["version"], person["sex"], person["birth_date"]) == \
            (stored.version, stored.sex, stored.birth_date.isoformat())
    assert _row(page, "residency", occupant[1]["record_id"])["version"] == 1
    assert fa.outbox(page) == []


def _old(name: str) -> str:
    return (OLD_APP / name).read_text(encoding="utf-8")


@pytest.fixture
def old_app(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A phone still on app 0.6.0 (protocol 1): its sync modules, page and worker alike."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    def serve(body: str) -> Any:
        return lambda route: route.fulfill(status=200, body=body,
                                           headers={"Content-Type": "text/javascript; charset=utf-8"})
    for name in ("api.js", "sync.js", "digits.js", "outbox.js"):
        context.route(f"**/static/pwa/{name}*", serve(_old(name)))
    yield context
    context.close()


def test_the_old_app_still_syncs_with_the_new_server(old_app: BrowserContext, live_server: LiveServer) -> None:
    page = old_app.new_page()
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    assert page.evaluate("async () => (await import('/static/pwa/api.js')).PROTOCOL") == 1
    occupant = fa.occupant_mutations(area.houses[0], "旧版应用", fa.fresh_id())
    seen = len(live_server.requests)
    fa.queue(page, occupant + _visits(area.houses[1], 5))
    result = fa.sync(page)
    assert result["ok"] and fa.outbox(page) == [], result
    calls = [r for r in live_server.requests[seen:] if r.path.startswith("/api/sync/")]
    assert calls and all("protocol=1" in r.query for r in calls if r.path == "/api/sync/pull")
    assert all(r.content_encoding == "" for r in calls)
    # Its own writes came back by the pull, as protocol 1 always did: the version is the server's.
    assert _row(page, "person", occupant[0]["record_id"])["version"] == 1
    assert "seq" in _row(page, "residency", occupant[1]["record_id"])
    assert fa.outbox(page) == []


def test_the_old_app_follows_a_person_merged_on_the_server(old_app: BrowserContext, live_server: LiveServer) -> None:
    """The same person typed twice on a 0.6.0 phone (a second visit's form, before the first
    synced): the server merges the second into the first (`merged`, `canonical_id`), and the
    old app moves what names the copy to that id and still finds the person by number."""
    page = old_app.new_page()
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    number = fa.fresh_id()
    first = fa.occupant_mutations(area.houses[0], "旧版合并", number)
    fa.queue(page, first)
    assert fa.sync(page)["ok"] and fa.outbox(page) == []
    again = fa.occupant_mutations(area.houses[0], "旧版合并", number)
    page.evaluate("""() => window.addEventListener("gw:synced", (ev) => (window.synced ||= []).push(ev.detail))""")
    fa.queue(page, again)
    fa.sync(page)
    # Every sync since, the one that learnt of the merge included (fa.sync runs two).
    assert all(r["ok"] for r in page.evaluate("() => window.synced")), page.evaluate("() => window.synced")
    assert fa.outbox(page) == []
    canonical, copy = first[0]["record_id"], again[0]["record_id"]
    with Session(live_server.engine) as s:
        assert s.get(Person, uuid.UUID(copy)) is None
        assert s.get(Person, uuid.UUID(canonical)) is not None
    assert _row(page, "person", copy) is None
    assert _row(page, "person", canonical)["name"] == "旧版合并"
    # Offline search by the last digits still finds the person under the registry's id.
    numbers = page.evaluate("""async (id) => {
      const map = await (await import('/static/pwa/digits.js')).ready(); return map && map.get(id);
    }""", canonical)
    assert numbers and numbers[0] == number


def test_the_old_app_keeps_a_refused_change_through_its_pulls(old_app: BrowserContext, live_server: LiveServer) -> None:
    """Each pull of 0.6.0 puts the queued changes back over the page (its outbox.js)."""
    page = old_app.new_page()
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    stay = {"person_id": area.person_id, "house_id": area.houses[1], "start_date": "not a date", "relation": "tenant"}
    refused = str(uuid.uuid4())
    fa.queue(page, [{"type": "residency", "op": "create", "record_id": refused, "base_version": None,
                     "fields": stay, "local": stay}])
    assert fa.sync(page)["ok"]
    assert [(e["record_id"], e["state"]) for e in fa.outbox(page)] == [(refused, "rejected")]
    assert _row(page, "residency", refused)["start_date"] == "not a date"
