"""A sync with work queued is one round trip: the field app's last push carries the pull
(docs/sync.md §3), applies the outcomes, then the page, and makes no second request. On a
stairwell's signal a round trip is most of a sync's time."""
from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import Page
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Person


def _visits(house_id: str, n: int) -> list[dict[str, Any]]:
    fields = {"house_id": house_id, "visited_at": "2026-11-26T08:00:00Z", "outcome": "verified"}
    return [{"type": "visit", "op": "create", "record_id": str(uuid.uuid4()), "base_version": None,
             "fields": fields, "local": fields} for _ in range(n)]


def _name(page: Page, person_id: str) -> Any:
    return page.evaluate("""async (id) => {
      const {openDB} = await import(document.querySelector('meta[name="gw-idb"]').content);
      const d = await openDB('gridwalk'); const row = await d.get('person', id); d.close();
      return row ? row.name : null;
    }""", person_id)


def test_a_sync_with_work_queued_is_one_round_trip(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    cursor = fa.meta(page, "cursor")
    fa.block_sync(page)  # no signal: the visits wait in the outbox
    fa.queue(page, _visits(area.houses[1], 3))
    page.evaluate("() => window.gridwalk.sync('test')")  # the save's own attempt, failed
    assert len(fa.outbox(page)) == 3
    # Meanwhile the registry changed in this coordinator's cell.
    renamed = f"改名{area.tag}"
    with Session(live_server.engine) as s:
        person = s.get(Person, uuid.UUID(area.person_id))
        assert person is not None
        person.name, person.version = renamed, person.version + 1
        s.commit()
    fa.unblock_sync(page)
    seen = len(live_server.requests)
    result = page.evaluate("() => window.gridwalk.sync('test')")
    assert result["ok"] and result["pushed"] == 3, result
    # The sync's own requests: a screen may fetch something else meanwhile (the walk's route,
    # after a previous test's login), which says nothing of the sync.
    sent = [(r.method, r.path) for r in live_server.requests[seen:] if r.path.startswith("/api/sync/")]
    assert sent == [("POST", "/api/sync/push")], sent
    assert fa.outbox(page) == []
    assert _name(page, area.person_id) == renamed  # the carried page was applied
    assert fa.meta(page, "cursor") not in (None, cursor)
    # With nothing queued, a sync is the pull alone.
    seen = len(live_server.requests)
    assert page.evaluate("() => window.gridwalk.sync('test')")["ok"]
    assert [r.path for r in live_server.requests[seen:] if r.path.startswith("/api/sync/")] == ["/api/sync/pull"]
