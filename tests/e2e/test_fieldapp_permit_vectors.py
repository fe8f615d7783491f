"""The field app's permits check (static/pwa/store.js permitDue) against the vectors the
registry's rule is tested with (tests/vectors/permits.json, tests/test_permit_vectors.py)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy.orm import Session

from tests import factories as f
from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import House
from webapp.registry.rules.persons import add_years

VECTORS = Path(__file__).parent.parent / "vectors" / "permits.json"

CHECK = """async (cases) => {
  const {permitDue} = await import("/static/pwa/store.js");
  return cases.map((c) => permitDue({permit_expiry: c.expiry, permit_issued: c.issued, permit_endorsed_on: c.endorsed}, c.today,
    {warn: c.warn ?? 30, window: c.window ?? 30, years: c.validity ?? 3}));
}"""


def _expected(case: dict[str, Any]) -> dict[str, Any] | None:
    kinds = case["kinds"]
    if not kinds:
        return None
    endorsement = ({"due": case["due"], "days": case["due_days"], "year": case["year"],
                    "overdue": "endorsement_overdue" in kinds}
                   if {"endorsement", "endorsement_overdue"} & set(kinds) else None)
    expiring = "expired" in kinds or "expiring" in kinds
    return {"expiry": case["expiry"], "days": case["days"] if expiring else case["due_days"],
            "expired": "expired" in kinds, "expiring": expiring, "endorsement": endorsement}


def test_permit_due_on_the_phone_matches_the_vectors(page: Page) -> None:
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]
    page.goto("/app/")
    fa.wait_ready(page)
    assert page.locator('meta[name="gw-permit-endorse"]').get_attribute("content") == "30/3"  # the rule's defaults
    found = page.evaluate(CHECK, cases)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")  # before the context closes
    for case, got in zip(cases, found, strict=True):
        assert got == _expected(case), case["name"]


def test_an_endorsement_due_is_shown_offline(context: BrowserContext, live_server: LiveServer) -> None:
    """A card issued a year ago (expires in two years and ten days): its yearly endorsement is
    due in ten days, listed with the cell's permits and tagged at the occupant."""
    area = fa.coordinator_area(live_server, houses=1)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the phone's "today"
    due = today + timedelta(days=10)
    with Session(live_server.engine) as s:
        person = f.person(s, name=f"要签注{area.tag}", id_number=fa.fresh_id(), permit_expiry=add_years(due, 1))
        f.residency(s, person, s.get(House, uuid.UUID(area.houses[0])))
        s.commit()
    page = context.new_page()
    fa.app_login(page, area.username)
    context.set_offline(True)
    fa.go(page, f"#/cell/{area.cell_id}/permits")
    row = page.locator("#permits li", has_text=f"要签注{area.tag}")
    expect(row.locator(".endorse")).to_have_text(f"须于{due}前签注")
    expect(row.locator(".permit:not(.endorse)")).to_have_count(0)  # the card itself is not expiring
    fa.go(page, f"#/house/{area.houses[0]}")
    expect(page.locator("#occupants li", has_text=f"要签注{area.tag}").locator(".endorse")).to_have_text(f"须于{due}前签注")
    context.set_offline(False)
