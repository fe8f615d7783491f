"""The phone's "visited this cycle" starts where the server's collection cycle starts
(geo/cycles.py): midnight in Shanghai on the first of the month, or of the quarter when
COLLECTION_CYCLE is "quarter" (carried by the shell), whatever the phone's own time zone."""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer

CYCLE_START = """async ([kind, now]) => {
  document.querySelector('meta[name="gw-cycle"]').content = kind;
  const {cycleStart} = await import("/static/pwa/store.js");
  return cycleStart(new Date(now));
}"""


@pytest.mark.parametrize(("kind", "now", "start"), [
    ("month", "2026-10-31T16:00:00Z", "2026-10-31T16:00:00.000Z"),  # 1 Nov 00:00 in Shanghai
    ("month", "2026-10-31T15:59:59Z", "2026-09-30T16:00:00.000Z"),  # still 31 Oct there
    ("month", "2026-01-15T03:00:00Z", "2025-12-31T16:00:00.000Z"),
    ("quarter", "2026-11-27T10:00:00Z", "2026-09-30T16:00:00.000Z"),  # Q4 from 1 Oct
    ("quarter", "2026-03-31T16:30:00Z", "2026-03-31T16:00:00.000Z"),  # 1 Apr in Shanghai: Q2
])
def test_cycle_start_follows_the_server(browser: Browser, live_server: LiveServer, kind: str, now: str,
                                        start: str) -> None:
    # A phone set to another time zone (a coordinator's phone bought abroad) counts the same.
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="America/Los_Angeles")
    page = context.new_page()
    try:
        page.goto("/app/")
        fa.wait_ready(page)
        assert page.locator('meta[name="gw-cycle"]').get_attribute("content") == "month"  # the default
        assert page.evaluate(CYCLE_START, [kind, now]) == start
    finally:
        context.close()
