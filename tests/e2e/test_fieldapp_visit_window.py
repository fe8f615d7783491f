"""The field app keeps the visits the server sends (static/pwa/keep.js), by the vectors the
server's window is tested with (tests/vectors/visit_window.json, tests/test_visit_window.py)."""
from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page

from tests.e2e import fieldapp as fa

VECTORS = Path(__file__).parent.parent / "vectors" / "visit_window.json"


def test_the_phone_keeps_visits_by_the_shared_window(page: Page) -> None:
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]
    page.goto("/app/")
    fa.wait_ready(page)
    kept = page.evaluate("""async (cases) => {
      const {outside} = await import("/static/pwa/keep.js");
      return cases.map((c) => !outside("visit", {id: "v", visited_at: c.visited_at}, new Date(c.now)));
    }""", cases)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")  # before the context closes
    assert kept == [c["kept"] for c in cases]
