"""One request computes at a time in a worker; its threads wait on the network side by side.

On SQLite every query runs in the worker's own process, so a second thread computing beside
the first only takes turns with it for Python's interpreter lock, and the push holding the
database's one write lock is paused in favour of a pull for milliseconds at a time: every
other writer of every worker waits meanwhile. Measured with `make load`'s open model on two
cores (RELIABILITY.md), threads that compute one at a time served 170–185 syncs/s against
140 with four threads taking turns. Threads are still what keeps a slow phone from holding a
worker: a request's body is read whole before its turn (a stairwell's upload of a push may
take seconds), and its answer is sent after.

PostgreSQL does the queries in its own processes: there, threads waiting for its answers are
what lets another compute, and the gate stays off (settings: ONE_REQUEST_AT_A_TIME).
"""
from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OneAtATime:
    """WSGI middleware: read the body, then run the app under the worker's one lock."""

    def __init__(self, app: WSGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body
        self.turn = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = _content_length(environ)
        if length is not None and 0 < length <= self.max_body:
            # The whole body before the turn: no thread computes while a phone uploads. A body
            # past the limit is left to the app, which refuses it (413) without reading it.
            environ["wsgi.input"] = io.BytesIO(_read(environ["wsgi.input"], length))
        with self.turn:
            # Flask handles the request, its database work and teardown included, in this
            # call; the answer's bytes go out after the turn, however slow the phone's signal.
            return self.app(environ, start_response)


def _content_length(environ: dict[str, Any]) -> int | None:
    try:
        return int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _read(stream: Any, length: int) -> bytes:
    chunks, left = [], length
    while left > 0:
        chunk = stream.read(min(left, 1 << 16))
        if not chunk:
            break  # the client gave up: the app sees a short body and answers it as one
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
