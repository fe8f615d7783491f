"""A grid lead's phone holds residents' numbers masked (webapp/registry/privacy.py), also those
of a resident the lead registered on it. Protocol 2 sends a phone's own writes back neither
in the push's answer nor in the pull (no echo), so after the sync the lead's phone kept the ID
number, the mobile and the birth date it had typed, in the record's sealed patch and in the
offline-search journal, where a pull gives the lead only their masks. The answer now says
`null` beside the masks and the phone drops its own values (static/pwa/sync.js)."""
from __future__ import annotations

import uuid

from playwright.sync_api import Browser
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from tests.e2e.test_fieldapp_numbers_leave import JOURNAL

# The record as the app opens it (its sealed blob and patches, with the unlocked key).
OPENED = """async (id) => {
  const {db} = await import('/static/pwa/db.js');
  const row = await (await db()).get('person', id);
  const opened = await (await import('/static/pwa/personal.js')).opened(row);
  return {row, opened};
}"""
PERSON_ID = """async (name) => (await (await (await import('/static/pwa/db.js')).db()).getAll('person'))
  .filter((p) => p.name === name).map((p) => p.id)"""


def test_a_leads_phone_keeps_only_the_masks_of_numbers_it_typed(browser: Browser, live_server: LiveServer) -> None:
    with fa.lead_phone(browser, live_server) as (area, page):
        name, number, mobile = f"新住{area.tag}", fa.fresh_id(), "13912344321"
        fa.block_sync(page)  # no signal: the save's own sync must not answer before the look below
        fa.add_occupant(page, area.houses[1], name, number, phone=mobile)
        [person_id] = page.evaluate(PERSON_ID, name)
        typed = page.evaluate(OPENED, person_id)["opened"]
        assert (typed["id_number"], typed["phone"]) == (number, mobile)  # offline, the lead's own typing shows

        fa.unblock_sync(page)
        assert fa.sync(page)["ok"]
        assert fa.outbox(page) == []
        held = page.evaluate(OPENED, person_id)
        opened = held["opened"]
        assert "id_number" not in opened and "phone" not in opened and "birth_date" not in opened, opened
        assert held["row"]["id_masked"] == number[:3] + "*" * 11 + number[-4:]
        assert held["row"]["phone_masked"] == "139****4321"
        assert opened["birth_date_masked"] == number[6:10]  # the year, as the lead's pull gives it
        journal = page.evaluate(JOURNAL)
        left = [x for x in (number, mobile) if x in journal["text"]]
        assert left == [], f"typed numbers still in the offline-search journal: {left}"
        assert fa.in_clear(fa.idb_dump(page), [number, mobile]) == []
        # What was typed is in the registry, as typed.
        with Session(live_server.engine) as s:
            from webapp.models import Person

            saved = s.get(Person, uuid.UUID(person_id))
            assert saved is not None and (saved.id_number, saved.phone) == (number, mobile)
