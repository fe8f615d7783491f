"""A first install of the service worker that fails (one file of the shell not fetched on flaky
office Wi-Fi, or /sw.js itself) is tried again without a reload, and the shell says whether the
app opens with no signal: a coordinator is not sent into a basement with an app that will not
open there, unwarned."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer

NOT_READY = "尚未可离线使用，联网后自动重试"
READY = "可离线使用"
CONTROLLED = "navigator.serviceWorker.controller !== null"


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN")
    yield ctx
    ctx.close()


def fail_first(context: BrowserContext, pattern: str, times: int) -> list[float]:
    """Cut the service worker's first `times` fetches of `pattern` (the page's own go through);
    returns when each of its fetches was asked (time.monotonic)."""
    asked: list[float] = []

    def handle(route: Route) -> None:
        if route.request.service_worker is None:
            route.continue_()
            return
        asked.append(time.monotonic())
        if len(asked) <= times:
            route.abort("connectionreset")
        else:
            route.continue_()

    context.route(pattern, handle)
    return asked


def until(page: Page, holds: Callable[[], bool], timeout_s: float, why: str) -> None:
    # Waiting through Playwright lets the route handlers above run meanwhile.
    deadline = time.monotonic() + timeout_s
    while not holds():
        assert time.monotonic() < deadline, why
        page.wait_for_timeout(50)


def registered(page: Page) -> bool:
    return page.evaluate("async () => Boolean(await navigator.serviceWorker.getRegistration())")


def opens_offline(page: Page, ready: str) -> None:
    page.context.set_offline(True)
    response = page.reload()
    assert response is not None and response.from_service_worker
    fa.wait_ready(page)
    expect(page.locator("#offline-ready")).to_have_text(ready)


def test_a_failed_install_is_tried_again_until_the_app_opens_offline(context: BrowserContext) -> None:
    asked = fail_first(context, "**/app/regions.json", times=3)
    page = context.new_page()
    page.goto("/app/")
    fa.wait_ready(page)
    status = page.locator("#offline-ready")
    # The first install and two more tries (about 2 s and 5 s later) fail, with no reload.
    until(page, lambda: len(asked) >= 3, 30, "a failed install was never tried again")
    until(page, lambda: not registered(page), 10, "the third failed install left a registration")
    assert not page.evaluate(f"() => {CONTROLLED}")
    expect(status).to_have_text(NOT_READY)
    expect(status).to_have_attribute("role", "status")
    page.click("#lang")
    expect(status).to_have_text("Not ready offline yet; retrying when online")

    # Back online, it tries at once: the next try would otherwise wait 15 s.
    context.set_offline(True)
    context.set_offline(False)
    back = time.monotonic()
    until(page, lambda: len(asked) >= 4, 10, "coming back online tried nothing")
    assert asked[3] - back < 10
    fa.wait(page, CONTROLLED, timeout_s=30.0)
    expect(status).to_have_text("Ready offline")
    opens_offline(page, "Ready offline")


def test_a_worker_script_not_fetched_is_asked_for_again(context: BrowserContext) -> None:
    asked = fail_first(context, "**/sw.js", times=2)
    page = context.new_page()
    page.goto("/app/")
    fa.wait_ready(page)
    until(page, lambda: len(asked) >= 1, 10, "the app never asked for its worker")
    expect(page.locator("#offline-ready")).to_have_text(NOT_READY)
    fa.wait(page, CONTROLLED, timeout_s=30.0)
    assert len(asked) == 3  # register() failed twice, then took
    expect(page.locator("#offline-ready")).to_have_text(READY)
    opens_offline(page, READY)
