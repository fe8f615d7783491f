"""The real Flask app served by werkzeug on 127.0.0.1 (a daemon thread, port 0), and a small
HTTP client for the sync API. Imports Flask: not a pure part."""
from __future__ import annotations

import gc
import gzip
import json
import runpy
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from bench.dataset import PASSWORD, app_config

# gunicorn.conf.py's (a worker's settings file, not a module to import).
GC_YOUNG = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))["GC_YOUNG"]


class Served:
    def __init__(self, url: str) -> None:
        from webapp.app import create_app

        self.app = create_app(app_config(url))
        # As each gunicorn worker does once the app is loaded (gunicorn.conf.py).
        self.gc_threshold = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(GC_YOUNG, *self.gc_threshold[1:])
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name="bench-server", daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        from webapp.extensions import db

        self.server.shutdown()
        self.thread.join(timeout=10)
        gc.unfreeze()
        gc.set_threshold(*self.gc_threshold)
        with self.app.app_context():
            db.engine.dispose()


@dataclass
class Answer:
    status: int
    body: Any
    wire_bytes: int  # the response as sent: status line, headers and body (gzip when compressed)
    seconds: float


def call(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> Answer:
    headers = {"Accept": "application/json", "Accept-Encoding": "gzip"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        raw = response.read()
        status = response.status
        head = len(f"HTTP/1.1 {status} {response.reason}\r\n") + 2 + \
            sum(len(f"{k}: {v}\r\n") for k, v in response.headers.items())
        if response.headers.get("Content-Encoding") == "gzip":
            text = gzip.decompress(raw)
        else:
            text = raw
    seconds = time.perf_counter() - start
    return Answer(status, json.loads(text), head + len(raw), seconds)


def register(base: str, username: str) -> str:
    """A new device for this user; returns its bearer token."""
    answer = call(f"{base}/api/devices", "POST", {"username": username, "password": PASSWORD,
                                                  "label": "bench", "app_version": "bench"})
    return str(answer.body["token"])


@dataclass
class PullRound:
    seconds: float
    wire_bytes: int
    rows: int
    pages: int
    cursor: str
    body_pages: list[dict[str, Any]]


def pull_round(base: str, token: str, cursor: str | None = None, keep: bool = False) -> PullRound:
    """Pull until `more` is false, as the field app does (protocol 2, 10,000 rows a page); time,
    bytes (headers included) and rows of the whole round."""
    seconds, size, rows, pages, kept = 0.0, 0, 0, 0, []
    while True:
        query = "protocol=2&limit=10000" + (f"&cursor={cursor}" if cursor else "")
        answer = call(f"{base}/api/sync/pull?{query}", token=token)
        seconds += answer.seconds
        size += answer.wire_bytes
        rows += int(answer.body["count"])
        pages += 1
        cursor = answer.body["cursor"]
        if keep:
            kept.append(answer.body)
        if not answer.body["more"]:
            return PullRound(seconds, size, rows, pages, str(cursor), kept)
