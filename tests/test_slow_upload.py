"""A phone on a weak signal (a stairwell, a basement) uploads its push slowly. While the body
is still arriving, the server holds no lock for that push, so every other phone's push goes
through. SQLite has one writer: a push that took the writer's lock before reading its body
held every other push of the district for as long as the upload took, then failed them at
the busy timeout. Real gunicorn, real sockets."""
from __future__ import annotations

import http.client
import json
import socket
import time
from pathlib import Path

import pytest

from tests import faults

pytestmark = pytest.mark.slow  # a gunicorn of its own: `make test`, not `make check`


def _post_slowly(port: int, token: str, body: bytes) -> socket.socket:
    """Send the headers and half the body, and leave the rest for later."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (f"POST /api/sync/push HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    sock.sendall(head.encode() + body[: len(body) // 2])
    return sock


def _answer(sock: socket.socket) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, json.loads(response.read())


@pytest.mark.parametrize("gate", ["true", "false"], ids=["one_request_at_a_time", "threads_together"])
def test_a_slow_upload_holds_up_no_other_push(tmp_path: Path, gate: str) -> None:
    """With the gate (SQLite's default) the body is read before the request's turn; without
    it, before the push view touches the database. Either alone must do."""
    url = f"sqlite:///{tmp_path / 'slow.sqlite3'}"
    houses = faults.seed(url)
    # A short busy timeout: before the fix the other push waited this long, then failed.
    server = faults.Gunicorn({**faults.app_env(url), "SQLITE_BUSY_TIMEOUT_MS": "4000",
                              "ONE_REQUEST_AT_A_TIME": gate}, workers=2)
    server.start()
    try:
        slow, quick = faults.Http(server.base), faults.Http(server.base)
        slow.register()
        quick.register()  # the same coordinator's second phone
        assert slow.token is not None
        sent = faults.visits(houses, 1, 20)
        body = json.dumps({"protocol": 2, "mutations": sent}).encode()
        with _post_slowly(server.port, slow.token, body) as sock:
            time.sleep(0.5)  # the server has the headers and waits for the rest of the body
            start = time.monotonic()
            status, answer = quick.call("POST", "/api/sync/push",
                                        {"protocol": 2, "mutations": faults.visits(houses, 1, 3)}, timeout=20)
            took = time.monotonic() - start
            assert status == 200 and [o["status"] for o in answer["outcomes"]] == ["applied"] * 3, answer
            assert took < 2, f"the other phone's push waited {took:.1f} s for a slow upload"
            sock.sendall(body[len(body) // 2:])  # the signal comes back: the rest arrives
            status, answer = _answer(sock)
        assert status == 200 and [o["status"] for o in answer["outcomes"]] == ["applied"] * 20, answer
    finally:
        server.stop()
    assert faults.counts(url)["visit"] == 23
