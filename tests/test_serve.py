"""What `make run` does, for real: migrate once, seed once, serve with gunicorn workers, log in."""
from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # gunicorn serving a seeded database: `make test`, not `make check`

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds}s")


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "FLASK_APP": "webapp:create_app", "GRIDWALK_ENV": "development",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}"}
    for args in (["db", "upgrade", "heads"], ["seed-demo", "--scale", "0.05", "--if-empty"]):
        subprocess.run([BIN / "flask", *args], env=env, check=True, capture_output=True)
    port = _free_port()
    # gunicorn.conf.py as `make run` and deployments read it, and its access log as `make run` keeps one.
    server = subprocess.Popen(
        [BIN / "gunicorn", "-c", ROOT / "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--access-logfile", tmp_path / "access.log", "webapp:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/login")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


class Browser:
    """A logged-in session over urllib: cookies kept, forms posted with their CSRF token."""

    def __init__(self, served: str) -> None:
        self.served = served
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> str:
        request = urllib.request.Request(f"{self.served}{path}", data=data, headers=headers or {})
        with self.opener.open(request) as response:
            return str(response.read().decode())

    def post(self, path: str, page: str, fields: dict[str, str]) -> str:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, "the form carries a CSRF token"
        return self.get(path, urllib.parse.urlencode({**fields, "csrf_token": token.group(1)}).encode())

    def log_in(self, username: str) -> str:
        return self.post("/login", self.get("/login"), {"username": username, "password": "gridwalk-demo"})


def test_gunicorn_serves_the_seeded_console(served: str) -> None:
    browser = Browser(served)
    get = browser.get
    home = browser.log_in("xg01")
    # Several requests, so that more than one worker answers with the same session.
    for _ in range(6):
        home = get("/")
        assert "xg01" in home or "协管员" in home
    assert "/cells/" in home  # the coordinator's cells are listed


# An ID number and a mobile as a coordinator types them into the console's search.
TYPED_ID, TYPED_MOBILE = "310110199001011234", "138 1234 5678"


def test_numbers_typed_into_a_search_stay_out_of_addresses_and_the_access_log(served: str, tmp_path: Path) -> None:
    browser = Browser(served)
    home = browser.log_in("xg01")
    # The console's search box posts: what is typed is in no address, history or referrer.
    # The answer redirects to a GET carrying it sealed (/search?s=…), which urllib follows.
    box = re.search(r'<form class="search"[^>]*>', home)
    assert box and 'method="post"' in box.group(0)
    found = browser.post("/search", home, {"q": TYPED_MOBILE})
    assert TYPED_MOBILE in found  # searched, and shown back to who typed it
    # An address that still carries them (an old bookmark, a link pasted by hand, a referrer).
    browser.get("/search?" + urllib.parse.urlencode({"q": TYPED_ID}),
                headers={"Referer": f"{served}/search?q=" + urllib.parse.quote_plus(TYPED_MOBILE)})
    log = tmp_path / "access.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "GET /search?q=" not in (log.read_text() if log.exists() else ""):
        time.sleep(0.1)
    lines = log.read_text(encoding="utf-8")
    assert "POST /search HTTP/1.1" in lines and "GET /search?s=" in lines
    assert "GET /search?q=310***********1234 HTTP/1.1" in lines
    assert "/search?q=1********78" in lines  # the referrer, its spaces read as the search reads them
    for raw in (TYPED_ID, TYPED_MOBILE.replace(" ", ""), urllib.parse.quote_plus(TYPED_MOBILE), "1234 5678"):
        assert raw not in lines
