"""Browser tests: Debian's headless Chromium driven by Playwright against a live server.

The app runs in a daemon thread (werkzeug, port 0) on its own migrated SQLite file, so these
tests are not parametrised over backends. Every request that reaches it is logged, so a test
can prove what the browser fetched (and that nothing else left the page). Never run
`playwright install`: it downloads a browser, which a closed network refuses.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import Engine, create_engine
from werkzeug.serving import BaseWSGIServer, make_server

from tests.conftest import _config_for, _migrate
from webapp.base.dbsetup import configure_engine

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Mark before `-m` deselects, so `-m e2e` / `-m "not e2e"` see the mark.
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (scripts/system-deps.sh installs it)")
    # No GPU in CI; QUIC off so nothing tries UDP to the outside.
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--disable-gpu", "--disable-quic"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any], live_server: LiveServer) -> dict[str, Any]:
    # The UI's default language; relative page.goto() paths go to the live server.
    return {**browser_context_args, "base_url": live_server.url, "locale": "zh-CN"}


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    remote_addr: str
    host: str
    content_encoding: str = ""  # how the body came (a phone's compressed push)
    accept_encoding: str = ""


@dataclass
class LiveServer:
    url: str
    app: Flask
    engine: Engine
    requests: list[LoggedRequest] = field(default_factory=list)


class _RequestLog:
    """WSGI middleware: records every request before the app sees it, and reads each answer
    whole before werkzeug sends it. A browser context closed mid-response (a service worker
    still precaching) otherwise left werkzeug's thread an open static file: an unraisable
    ResourceWarning, an error under filterwarnings=error in whichever test ran next (CI,
    test_flags_and_units_offline at setup). The test server's answers are small."""

    def __init__(self, app: Any, log: list[LoggedRequest]) -> None:
        self.app, self.log = app, log

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.log.append(LoggedRequest(
            environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
            environ.get("REMOTE_ADDR", ""), environ.get("HTTP_HOST", ""),
            environ.get("HTTP_CONTENT_ENCODING", ""), environ.get("HTTP_ACCEPT_ENCODING", ""),
        ))
        answer = self.app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from webapp.app import create_app
    from webapp.extensions import db

    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.sqlite3'}"
    _migrate(url)
    app = create_app(_config_for(url))
    log: list[LoggedRequest] = []
    app.wsgi_app = _RequestLog(app.wsgi_app, log)  # type: ignore[method-assign]
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    # A separate engine for the tests' own fixtures (the app's belongs to its request threads).
    engine = create_engine(url)
    configure_engine(engine)
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, engine, log)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        engine.dispose()
        with app.app_context():
            db.engine.dispose()


def log_in(page: Page, username: str, password: str = "pw") -> None:
    """Through the real login form, as a person would (CSRF token, session cookie)."""
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def run_axe(page: Page) -> list[dict[str, Any]]:
    """WCAG 2 A/AA violations on the current page (needs a context with bypass_csp=True:
    the injected axe script would otherwise be refused by our CSP)."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"
    )
