"""One request computes at a time in a worker (webapp/base/gate.py): requests never overlap inside
the app, a slow upload is read before its turn and holds up nobody, and the app factory puts
the gate on SQLite only unless told otherwise."""
from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest

from webapp.base.gate import OneAtATime


class Counting:
    """A WSGI app that notes how many requests are inside it at once."""

    def __init__(self) -> None:
        self.inside = self.most = 0
        self.bodies: list[bytes] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(0.02)  # computing
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        with self.lock:
            self.bodies.append(body)
            self.inside -= 1
        start_response("200 OK", [])
        return [b"ok"]


class SlowStream:
    """A phone's upload on a weak signal: half the body, then the rest once `more` is set."""

    def __init__(self, body: bytes) -> None:
        self.body, self.sent, self.more = body, 0, threading.Event()

    def read(self, n: int = -1) -> bytes:
        if self.sent >= len(self.body) // 2:
            self.more.wait(10)
        n = len(self.body) - self.sent if n < 0 else n
        chunk = self.body[self.sent:self.sent + min(n, len(self.body) // 2 or 1)]
        self.sent += len(chunk)
        return chunk


def _environ(body: bytes | None = None, stream: Any = None) -> dict[str, Any]:
    return {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body or b"")),
            "wsgi.input": stream if stream is not None else io.BytesIO(body or b"")}


def test_requests_compute_one_at_a_time() -> None:
    app = Counting()
    gate = OneAtATime(app, max_body=1 << 20)
    threads = [threading.Thread(target=gate, args=(_environ(b"x" * i), lambda *a: None)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert app.most == 1 and sorted(app.bodies) == [b"x" * i for i in range(8)]


def test_without_the_gate_they_overlap() -> None:
    """The counter above can see overlap: the same requests, ungated."""
    app = Counting()
    threads = [threading.Thread(target=app, args=(_environ(b"x"), lambda *a: None)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert app.most > 1


def test_a_slow_upload_is_read_before_its_turn() -> None:
    app = Counting()
    gate = OneAtATime(app, max_body=1 << 20)
    body = b"{" + b"a" * 10_000 + b"}"
    slow = SlowStream(body)
    uploading = threading.Thread(target=gate, args=(_environ(body, slow), lambda *a: None))
    uploading.start()
    time.sleep(0.1)  # half the body is in; the rest is still on its way
    quick = threading.Thread(target=gate, args=(_environ(b"quick"), lambda *a: None))
    quick.start()
    quick.join(5)
    assert not quick.is_alive() and app.bodies == [b"quick"], "a slow upload held the worker's turn"
    slow.more.set()
    uploading.join(5)
    assert app.bodies == [b"quick", body]


def test_a_body_past_the_limit_is_left_to_the_app() -> None:
    seen: list[Any] = []
    stream = io.BytesIO(b"x" * 100)
    gate = OneAtATime(lambda environ, start: seen.append(environ["wsgi.input"]) or [], max_body=10)
    gate(_environ(b"x" * 100, stream), lambda *a: None)
    assert seen == [stream] and stream.tell() == 0  # not read: the app refuses it (413) unread


@pytest.mark.parametrize(("url", "setting", "gated"), [
    ("sqlite:///x.sqlite3", None, True), ("postgresql+psycopg://u@h/d", None, False),
    ("sqlite:///x.sqlite3", False, False), ("postgresql+psycopg://u@h/d", True, True),
])
def test_the_factory_gates_sqlite_unless_told(url: str, setting: bool | None, gated: bool) -> None:
    from webapp.app import _one_request_at_a_time

    assert _one_request_at_a_time({"SQLALCHEMY_DATABASE_URI": url, "ONE_REQUEST_AT_A_TIME": setting}) is gated
