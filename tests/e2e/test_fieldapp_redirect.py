"""A create the server merged into another record, its answer lost: the retried push answers
`already_applied` / `merged` with `canonical_id`, and the phone then holds the registry's
record under that id, not its own copy (sync.js redirect put the copy there: another start
date, version 0, and no later pull sent the registry's row again, as it had not changed)."""
from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import Page, Route
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Person, Residency


def _row(page: Page, store: str, rid: str) -> Any:
    return page.evaluate("""async ([store, id]) => {
      const {openDB} = await import(document.querySelector('meta[name="gw-idb"]').content);
      const d = await openDB('gridwalk'); const row = await d.get(store, id); d.close(); return row ?? null;
    }""", [store, rid])


def test_a_merged_create_heard_late_leaves_the_registrys_record(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    with Session(live_server.engine) as s:
        stay = s.scalars(select(Residency).where(Residency.person_id == uuid.UUID(area.person_id))).one()
        canonical, start, version = str(stay.id), stay.start_date.isoformat(), stay.version
    fa.app_login(page, area.username)
    assert _row(page, "residency", canonical)["start_date"] == start

    held: list[Route] = []
    page.context.route("**/api/sync/push", lambda route: held.append(route))
    # The same person recorded again as living in the same house: merged into their residency.
    mine = str(uuid.uuid4())
    stay_fields = {"person_id": area.person_id, "house_id": area.houses[0], "start_date": "2026-11-01",
                   "relation": "tenant"}
    fa.queue(page, [{"type": "residency", "op": "create", "record_id": mine, "base_version": None,
                     "fields": stay_fields, "local": stay_fields}])
    page.evaluate("() => { window.gridwalk.sync('test'); }")
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the push never started"
    answer = held[0].fetch()  # the server applies and commits the batch ...
    assert answer.status == 200
    held[0].abort()  # ... and the phone never hears it
    page.context.unroute("**/api/sync/push")
    assert [e["record_id"] for e in fa.outbox(page)] == [mine]

    result = fa.sync(page)  # the retry: already_applied, first merged into the residency there is
    assert result["ok"] and fa.outbox(page) == [], result
    assert _row(page, "residency", mine) is None
    held_row = _row(page, "residency", canonical)
    assert held_row is not None
    assert (held_row["start_date"], held_row["version"], held_row["person_id"]) == (start, version, area.person_id)


def _person(page: Page, rid: str) -> Any:
    return page.evaluate("""async (id) => {
      const {openDB} = await import(document.querySelector('meta[name="gw-idb"]').content);
      const d = await openDB('gridwalk'); const row = await d.get('person', id); d.close();
      return row ? (await import('/static/pwa/personal.js')).opened(row) : null;
    }""", rid)


def test_a_person_recorded_twice_keeps_the_registrys_values(page: Page, live_server: LiveServer) -> None:
    """The same ID number typed again under another name: merged into the person there is (the
    name differs: a case for the centre); the registry's person is unchanged, so no pull brings
    it again, and the phone's copy must not take its place."""
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    before = _person(page, area.person_id)
    assert before["name"] == area.person_name
    again = str(uuid.uuid4())
    fields = {"name": f"{area.person_name}又", "id_type": "resident", "id_number": area.person_id_number,
              "phone": None, "category": "migrant"}
    fa.queue(page, [{"type": "person", "op": "create", "record_id": again, "base_version": None, "fields": fields,
                     "local": {k: v for k, v in fields.items() if k != "id_number"}}])
    result = fa.sync(page)
    assert result["ok"] and fa.outbox(page) == [], result
    assert _person(page, again) is None
    after = _person(page, area.person_id)
    with Session(live_server.engine) as s:
        registry = s.get(Person, uuid.UUID(area.person_id))
        assert registry is not None and registry.version == before["version"]  # nothing to fill in
        assert (after["name"], after["version"]) == (registry.name, registry.version) == (before["name"], before["version"])
