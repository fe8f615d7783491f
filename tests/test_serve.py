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
    server = subprocess.Popen(
        [BIN / "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "webapp:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/login")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def test_gunicorn_serves_the_seeded_console(served: str) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    def get(url: str, data: bytes | None = None) -> str:
        with opener.open(url, data=data) as response:
            return str(response.read().decode())

    login_page = get(f"{served}/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page)
    assert token, "the login form carries a CSRF token"
    form = urllib.parse.urlencode({"username": "xg01", "password": "gridwalk-demo",
                                   "csrf_token": token.group(1)}).encode()
    home = get(f"{served}/login", form)
    # Several requests, so that more than one worker answers with the same session.
    for _ in range(6):
        home = get(f"{served}/")
        assert "xg01" in home or "协管员" in home
    assert "/cells/" in home  # the coordinator's cells are listed
