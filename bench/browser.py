"""Figures 5, 6 (browser side) and 7: the field app in Debian's headless Chromium (Playwright),
against the district's SQLite database served by werkzeug. CPU throttling (4×) and network
emulation (1 Mbit/s, 300 ms) go through the Chrome DevTools Protocol."""
from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import BrowserContext, CDPSession, Page, sync_playwright

from bench.dataset import PASSWORD, District
from bench.progress import Steps
from bench.push import new_id_number
from bench.report import Report, Row, show
from bench.server import Served
from bench.stats import Sample

CHROMIUM = "/usr/bin/chromium"
PIN = "246813"  # the field app asks for 6 to 12 digits (issue 15)
# Installed before any page script (CDP, so the CSP does not apply): when the app says it is
# ready, and every finished sync, in page time.
PROBE = """
window.__gw = {started: [], synced: [], ready: null};
addEventListener('gw:sync-start', () => window.__gw.started.push(performance.now()));
addEventListener('gw:synced', (e) => window.__gw.synced.push({t: performance.now(), d: e.detail}));
new MutationObserver(() => {
  if (window.__gw.ready === null && document.body && document.body.dataset.ready === 'true') window.__gw.ready = performance.now();
}).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-ready']});
"""
SEARCH = """async ([q]) => {
  const {search} = await import('/static/pwa/store.js');
  const t = performance.now(); const r = await search(q); return {ms: performance.now() - t, hits: r.people.length};
}"""
QUEUE = """async ([houses, n]) => {
  const {save} = await import('/static/pwa/outbox.js');
  const {newId} = await import('/static/pwa/ids.js');  // as the app's screens make them
  const list = [];
  for (let i = 0; i < n; i++) {
    const fields = {house_id: houses[i % houses.length], visited_at: new Date().toISOString(), outcome: 'verified',
      plate_scanned: false};
    list.push({type: 'visit', op: 'create', record_id: newId(), base_version: null, fields, base: {},
      local: fields});
  }
  await save(list);
}"""
# The sync that pushed what was queued, start to end. Saving starts one by itself (which a
# call to sync() then only waits for): the app's own events say when it started. Nothing ran
# before the save (queued_sync), so that sync, or the one this call starts, pushes it all.
QUEUED_SYNC = """async ([from, n]) => {
  await window.gridwalk.sync('bench');
  const s = window.__gw, done = s.synced.slice(from).find((x) => x.d.ok && x.d.pushed >= n);
  return done ? done.t - s.started.filter((t) => t <= done.t).pop() : null;
}"""


def wait(page: Page, predicate: str, timeout_s: float = 300.0) -> None:
    """Poll with evaluate (our CSP refuses the eval behind wait_for_function)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if page.evaluate(f"() => Boolean({predicate})"):
                return
        except Exception:  # noqa: BLE001  (navigating: ask again)
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(predicate)
        page.wait_for_timeout(20)


def login(page: Page, username: str, worker: bool = True) -> float:
    """Log in through the form; returns ms from the click to the end of the first sync.
    `worker`: also wait until the service worker controls the page (needed to open offline)."""
    page.goto("/app/")
    wait(page, "window.__gw.ready !== null")
    page.fill("[name=username]", username)
    page.fill("[name=password]", PASSWORD)
    page.fill("[name=pin]", PIN)
    page.fill("[name=pin2]", PIN)
    start = page.evaluate("() => performance.now()")
    page.click("#login-go")
    wait(page, "window.__gw.synced.some((s) => s.d.pulled > 0)")
    if worker:
        wait(page, "navigator.serviceWorker.controller !== null")
    done = page.evaluate("() => window.__gw.synced.find((s) => s.d.pulled > 0).t")
    return float(done - start)


class Network:
    """Bytes and requests seen by the page's network domain (what crossed the emulated link)."""

    def __init__(self, cdp: CDPSession) -> None:
        self.bytes, self.requests = 0, 0
        cdp.on("Network.loadingFinished", lambda e: self._done(e))
        cdp.on("Network.requestWillBeSent", lambda _e: self._sent())

    def _done(self, event: dict[str, Any]) -> None:
        self.bytes += int(event.get("encodedDataLength", 0))

    def _sent(self) -> None:
        self.requests += 1

    def reset(self) -> None:
        self.bytes, self.requests = 0, 0


def queued_sync(page: Page, houses: list[str], n: int, net: Network | None = None) -> float:
    """Queue n visits as the app's screens save them; ms of the sync that pushed them. Syncs
    under way (a save starts one) end first, and `net` counts from there: no sync runs into the
    next figure (one that ran during figure 6's seeding dropped its persons, who live nowhere)."""
    page.evaluate("async () => { await window.gridwalk.sync('bench'); await window.gridwalk.sync('bench'); }")
    if net is not None:
        net.reset()
    before = page.evaluate("() => window.__gw.synced.length")
    page.evaluate(QUEUE, [houses, n])
    ms = page.evaluate(QUEUED_SYNC, [before, n])
    if ms is None:
        raise RuntimeError(f"no sync pushed the {n} queued changes")
    return float(ms)


def area_houses(page: Page, n: int) -> list[str]:
    return list(page.evaluate("""async ([n]) => { const {db} = await import('/static/pwa/db.js');
      return (await (await db()).getAllKeys('house')).slice(0, n); }""", [n]))


def figures(report: Report, district: District, sizes: Any, steps: Steps) -> None:
    """Each part on its own: one that fails is reported as not measured, and the run goes on."""
    served = Served(district.url)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--disable-quic"])
            try:
                with steps.step("Chromium: figures 5 and 6 at 4× CPU throttle"), _unless_failed(report, "5"):
                    _throttled(report, browser.new_context(base_url=served.url, locale="zh-CN"), sizes)
                with steps.step("Chromium: first sync at 4× CPU throttle"), _unless_failed(report, "5"):
                    _first_sync_throttled(report, browser, served.url, sizes)
                with steps.step("Chromium: figure 7 at 1 Mbit/s, 300 ms"), _unless_failed(report, "7"):
                    _field_network(report, browser, served.url, sizes)
            finally:
                browser.close()
    finally:
        served.close()


@contextmanager
def _unless_failed(report: Report, figure: str) -> Iterator[None]:
    try:
        yield
    except Exception as error:  # noqa: BLE001  (unattended: report it and measure the rest)
        report.add(Row(figure, f"**not measured**: {type(error).__name__}: {str(error)[:200]}", "Chromium", "—"))


def _new_page(context: BrowserContext) -> tuple[Page, CDPSession]:
    context.add_init_script(PROBE)
    page = context.new_page()
    return page, context.new_cdp_session(page)


def _throttled(report: Report, context: BrowserContext, sizes: Any) -> None:
    page, cdp = _new_page(context)
    shell: dict[str, int] = {}

    def keep(response: Any) -> None:
        path = response.url.split("//", 1)[1].split("/", 1)[1]
        if response.ok and not path.startswith("api/") and response.url not in shell:
            try:
                shell[response.url] = len(gzip.compress(response.body(), 6))
            except Exception:  # noqa: BLE001  (a redirect or an empty body)
                pass

    page.on("response", keep)
    login(page, "bench_area")
    page.remove_listener("response", keep)
    lazy = [u for u in shell if "jsqr" in u.lower() or "leaflet" in u.lower()]
    size = sum(v for u, v in shell.items() if u not in lazy)
    report.add(Row("5", f"app shell, gzip ({len(shell) - len(lazy)} files loaded at open; the QR decoder loads lazily)",
                   "Chromium", f"{size / 1024:,.1f} KiB", "100 KiB", f"{size / 1024 / 100:.2f}×", "≤ 1×",
                   size <= 100 * 1024))
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    houses = area_houses(page, sizes.browser_queue)
    repeats = sizes.repeats

    # Saving one occupant through the form, and syncing 500 queued changes.
    save, sync = Sample(), Sample()
    for i in range(repeats):
        form = f"#/house/{houses[i % len(houses)]}/add-person"
        page.evaluate("(h) => { location.hash = h; }", form)
        wait(page, f"document.body.dataset.view === '{form}' && document.querySelector('[name=id_number]')")
        page.fill("[name=name]", f"基准住户{i}")
        page.fill("[name=id_number]", new_id_number())
        start = page.evaluate("() => performance.now()")
        page.click("button[type=submit]")
        # Until the house page is on screen (app.js marks the view it rendered), not only its hash.
        wait(page, f"document.body.dataset.view === '#/house/{houses[i % len(houses)]}'")
        save.values.append(float(page.evaluate("() => performance.now()")) - start)
        sync.values.append(queued_sync(page, houses, sizes.browser_queue))
    report.add(Row("5", "save one occupant to the outbox (form submit → house page), 4× CPU throttle", "Chromium",
                   show(save, "ms", 0)))
    report.add(Row("5", f"sync {sizes.browser_queue} queued changes (push + pull, local server), 4× CPU throttle",
                   "Chromium", show(sync, "ms", 0)))

    # 50,000 persons seeded through the app's own modules, sealed as a sync stores them: storage, then search.
    from bench.fieldapp_search import SEED

    seeded = page.evaluate(SEED, [sizes.browser_persons])
    report.add(Row("6", f"IndexedDB usage for {sizes.browser_persons:,} persons (navigator.storage.estimate)",
                   "Chromium", f"{(seeded['after'] - seeded['before']) / 2**20:,.1f} MiB",
                   f"{seeded['count']:,} persons stored in all"))
    search = Sample()
    for i in range(repeats):
        search.values.append(float(page.evaluate(SEARCH, ["王" + "伟芳娜敏静"[i % 5]])["ms"]))
    report.add(Row("5", f"offline search over {seeded['count']:,} persons, 4× CPU throttle", "Chromium",
                   show(search, "ms", 0), "50 ms", f"{search.median / 50:.2f}×", "≤ 1×", search.median <= 50))

    # Cold offline open: a new tab, no network, until the app is usable (the unlock screen).
    context.set_offline(True)
    opened = Sample()
    for _ in range(repeats):
        tab = context.new_page()
        tab_cdp = context.new_cdp_session(tab)
        tab_cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        tab.goto("/app/")
        wait(tab, "window.__gw.ready !== null")
        opened.values.append(float(tab.evaluate("() => window.__gw.ready")))
        tab.close()
    report.add(Row("5", f"cold offline open to usable (new tab, service worker, {seeded['count']:,} persons stored), "
                   "4× CPU throttle", "Chromium", show(opened, "ms", 0)))
    context.close()


def _first_sync_throttled(report: Report, browser: Any, base: str, sizes: Any) -> None:
    """A new phone's first sync of the area, the CPU slowed as a mid-range phone's: each page is
    sealed person by person and stored (figure 7 is the same sync on a slow network)."""
    first = Sample()
    for _ in range(sizes.repeats):
        context = browser.new_context(base_url=base, locale="zh-CN")
        page, cdp = _new_page(context)
        page.goto("/app/")
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        first.values.append(login(page, "bench_area", worker=False))
        context.close()
    report.add(Row("5", f"first sync of the {sizes.area_houses:,}-house area (login → synced, local server), "
                   "4× CPU throttle", "Chromium", show(first, "ms", 0)))


def _field_network(report: Report, browser: Any, base: str, sizes: Any) -> None:
    first, push = Sample(), Sample()
    stats: dict[str, int] = {}
    for _ in range(sizes.repeats):
        context = browser.new_context(base_url=base, locale="zh-CN")
        page, cdp = _new_page(context)
        cdp.send("Network.enable")
        net = Network(cdp)
        page.goto("/app/")  # the shell arrives at full speed: the sync is what is measured
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 300,
                                                       "downloadThroughput": 1_000_000 / 8,
                                                       "uploadThroughput": 1_000_000 / 8})
        net.reset()
        # Under emulation the worker never took control within 300 s (the shell was fetched at
        # full speed before it); the figure is the sync, which does not need it.
        first.values.append(login(page, "bench_area", worker=False) / 1000)
        stats["first_bytes"], stats["first_requests"] = net.bytes, net.requests
        houses = area_houses(page, sizes.browser_queue)
        push.values.append(queued_sync(page, houses, sizes.browser_queue, net) / 1000)
        stats["push_bytes"], stats["push_requests"] = net.bytes, net.requests
        context.close()
    report.add(Row("7", f"first sync of the 2,000-house area at 1 Mbit/s, 300 ms RTT (login → synced; "
                   f"{stats['first_bytes'] / 1024:,.0f} KiB received, {stats['first_requests']} requests)",
                   "Chromium", show(first, "s", 1), "60 s", f"{first.median / 60:.2f}×", "< 1×", first.median < 60))
    report.add(Row("7", f"push of {sizes.browser_queue} queued changes at 1 Mbit/s, 300 ms RTT (then the pull; "
                   f"{stats['push_bytes'] / 1024:,.0f} KiB received, {stats['push_requests']} requests)",
                   "Chromium", show(push, "s", 1), "30 s", f"{push.median / 30:.2f}×", "< 1×", push.median < 30))
