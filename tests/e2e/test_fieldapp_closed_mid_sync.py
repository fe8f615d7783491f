"""Issue 8: the tab is closed while a push of many queued changes is in flight — once after the
server committed it (the answer never reaches the phone), once before the request got there.
Reopened in the same browser (first offline, then online) and synced again, every change is
on the server exactly once: none lost, none applied twice. A change the server refused in the
push whose answer was lost still comes back to the phone as "needs fixing" (not dropped as if
acknowledged); everything else leaves the outbox."""
from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import BrowserContext, Page, Route
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Device, Person, Residency, SyncMutation

OCCUPANTS = 25  # 50 mutations in one push


def _held_push(context: BrowserContext) -> list[Route]:
    """Hold every push request instead of sending it; the test decides what happens to it."""
    held: list[Route] = []
    context.route("**/api/sync/push", lambda route: held.append(route))
    return held


def _wait_for(page: Page, held: list[Route]) -> Route:
    for _ in range(200):
        if held:
            return held[0]
        page.wait_for_timeout(50)
    raise AssertionError("the push never started")


def _server_counts(server: LiveServer, user_id: int, names: list[str]) -> dict[str, Any]:
    with Session(server.engine) as s:
        devices = select(Device.id).where(Device.user_id == user_id)
        receipts = s.scalars(select(SyncMutation.id).where(SyncMutation.device_id.in_(devices))).all()
        people = s.scalars(select(Person.name).where(Person.name.in_(names))).all()
        stays = s.scalar(select(func.count()).select_from(Residency).join(Person, Residency.person_id == Person.id)
                         .where(Person.name.in_(names)))
        return {"receipts": len(receipts), "distinct": len(set(receipts)), "people": sorted(people), "stays": stays}


def test_tab_closed_mid_sync_loses_and_doubles_nothing(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    context = page.context
    fa.app_login(page, area.username)
    house = area.houses[0]
    names: list[str] = []
    for mode in ("committed_then_closed", "closed_before_sent"):
        fa.block_sync(page)
        batch = [f"{mode[:4]}{uuid.uuid4().hex[:6]}" for _ in range(OCCUPANTS)]
        names += batch
        for name in batch:
            fa.queue(page, fa.occupant_mutations(house, name, fa.fresh_id()))
        refused = f"{mode[:4]}错号{uuid.uuid4().hex[:4]}"
        wrong = fa.fresh_id()
        wrong = wrong[:17] + ("1" if wrong[17] != "1" else "2")  # a check character the server refuses
        fa.queue(page, fa.occupant_mutations(house, refused, wrong))
        sent = 2 * OCCUPANTS + 2
        assert len(fa.outbox(page)) == sent
        before = _server_counts(live_server, area.user_id, names)
        # Held first, then the block lifted: a sync some trigger starts meanwhile is held too.
        held = _held_push(context)
        fa.unblock_sync(page)
        page.evaluate("() => { window.gridwalk.sync('test'); }")  # not awaited: the tab goes first
        route = _wait_for(page, held)
        if mode == "committed_then_closed":
            answer = route.fetch()  # the server applies and commits the batch ...
            assert answer.status == 200
            page.close()  # ... and the tab is gone before the phone hears it
            mid = _server_counts(live_server, area.user_id, names)
            assert mid["receipts"] == before["receipts"] + sent
        else:
            # The request never reaches the server: failed at once, as with the signal gone, and
            # the tab closed. Left held, a closing page's pending request was once let through
            # to the server (CI, 2026-12-06), which made this case the one above.
            for pending in held:
                pending.abort()
            page.close()
            assert _server_counts(live_server, area.user_id, names) == before
        context.unroute("**/api/sync/push")

        # Reopened with no signal: all of it still queued on the phone.
        context.set_offline(True)
        page = context.new_page()
        response = page.goto("/app/")
        assert response is not None and response.from_service_worker
        fa.unlock(page)
        assert len(fa.outbox(page)) == sent
        assert {e["state"] for e in fa.outbox(page)} == {"pending"}
        context.set_offline(False)
        fa.sync(page)
        assert fa.last_sync(page)["ok"], fa.last_sync(page)
        left = fa.outbox(page)
        assert sorted((e["type"], e["state"]) for e in left) == [("person", "rejected"), ("residency", "blocked")]
        assert [e["errors"][0]["code"] for e in left if e["state"] == "rejected"] == ["id.check"]
        page.evaluate("async () => { const d = await (await import('/static/pwa/db.js')).db(); await d.clear('outbox'); }")

        got = _server_counts(live_server, area.user_id, names)
        assert got["people"] == sorted(names)  # each name once: none lost, none doubled
        assert got["stays"] == len(names)
        assert got["receipts"] == got["distinct"] == before["receipts"] + sent
