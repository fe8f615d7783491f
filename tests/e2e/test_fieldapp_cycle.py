"""The phone's "visited this cycle" starts where the server's collection cycle starts
(geo/cycles.py): midnight in Shanghai on the first of the month, or of the quarter when
COLLECTION_CYCLE is "quarter" (carried by the shell), whatever the phone's own time zone."""
from __future__ import annotations

from playwright.sync_api import Browser

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer

CYCLE_START = """async ([kind, now]) => {
  document.querySelector('meta[name="gw-cycle"]').content = kind;
  const {cycleStart} = await import("/static/pwa/store.js");
  return cycleStart(new Date(now));
}"""


CASES = [
    ("month", "2026-10-31T16:00:00Z", "2026-10-31T16:00:00.000Z"),  # 1 Nov 00:00 in Shanghai
    ("month", "2026-10-31T15:59:59Z", "2026-09-30T16:00:00.000Z"),  # still 31 Oct there
    ("month", "2026-01-15T03:00:00Z", "2025-12-31T16:00:00.000Z"),
    ("quarter", "2026-11-27T10:00:00Z", "2026-09-30T16:00:00.000Z"),  # Q4 from 1 Oct
    ("quarter", "2026-03-31T16:30:00Z", "2026-03-31T16:00:00.000Z"),  # 1 Apr in Shanghai: Q2
]


def test_cycle_start_follows_the_server(browser: Browser, live_server: LiveServer) -> None:
    # A phone set to another time zone (a coordinator's phone bought abroad) counts the same.
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="America/Los_Angeles")
    page = context.new_page()
    try:
        page.goto("/app/")
        fa.wait_ready(page)
        assert page.locator('meta[name="gw-cycle"]').get_attribute("content") == "month"  # the default
        for kind, now, start in CASES:
            assert page.evaluate(CYCLE_START, [kind, now]) == start, (kind, now)
        # Closed only once the service worker has its shell: a close mid-precache aborts the
        # server's file responses (an unclosed-file warning, an error under filterwarnings).
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    finally:
        context.close()
