"""Helpers for the fault tests (tests/test_faults.py) and `make faults`: a seeded SQLite file
registry, a gunicorn server that can be SIGKILLed and restarted, a restartable PostgreSQL
cluster, and an HTTP sync client that retries. Loopback only; every wait is bounded."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from tests.pg import _as_postgres, _free_port, find_pg_bin

BIN = Path(sys.executable).parent


def seed(url: str, houses: int = 40) -> list[str]:
    """Migrate `url` and add one coordinator ("coord", password "pw") with a cell of houses."""
    from tests import factories as f
    from tests.conftest import _migrate
    from webapp.base.dbsetup import configure_engine

    _migrate(url)
    engine = create_engine(url)
    configure_engine(engine)
    with Session(engine) as s:
        com = f.committee(s, name="故障居委")
        cell = f.cell(s, com)
        coord = f.user(s, "coord", "coordinator")
        cell.coordinators.append(coord)
        ids = [str(f.house(s, cell).id) for _ in range(houses)]
        s.commit()
    engine.dispose()
    return ids


def counts(url: str) -> dict[str, int]:
    from webapp.models import Conflict, SyncMutation, Visit

    engine = create_engine(url)
    with Session(engine) as s:
        out = {"sync_mutation": s.scalar(select(func.count()).select_from(SyncMutation)) or 0,
               "distinct_mutation": s.scalar(select(func.count(func.distinct(SyncMutation.id)))) or 0,
               "visit": s.scalar(select(func.count()).select_from(Visit)) or 0,
               "conflict": s.scalar(select(func.count()).select_from(Conflict)) or 0}
    engine.dispose()
    return out


def visits(house_ids: list[str], first_seq: int, n: int) -> list[dict[str, Any]]:
    """n non-conflicting mutations: visit creates, each with its own id."""
    return [{"id": str(uuid.uuid4()), "seq": first_seq + i, "type": "visit", "op": "create",
             "record_id": str(uuid.uuid4()), "at": "2026-11-26T08:00:00Z",
             "fields": {"house_id": house_ids[(first_seq + i) % len(house_ids)], "outcome": "verified",
                        "visited_at": "2026-11-26T08:00:00Z", "note": f"第{first_seq + i}次"}}
            for i in range(n)]


class Http:
    """A phone over HTTP: JSON in and out, retries transient faults (connection lost, 5xx)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token: str | None = None

    def call(self, method: str, path: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def register(self, username: str = "coord", password: str = "pw") -> None:
        status, body = self.call("POST", "/api/devices", {"username": username, "password": password})
        assert status == 201, body
        self.token = body["token"]

    def push_until_done(self, mutations: list[dict[str, Any]], seconds: float = 60) -> dict[str, Any]:
        """Resend the same batch until the server answers it: what the phone's outbox does."""
        deadline = time.monotonic() + seconds
        delay = 0.05
        while True:
            try:
                status, body = self.call("POST", "/api/sync/push", {"protocol": 1, "mutations": mutations})
                if status == 200:
                    return body  # type: ignore[no-any-return]
                assert status >= 500, (status, body)  # only transient faults may be retried
            # A server killed mid-answer: reset, closed early, or a truncated body.
            except (OSError, http.client.HTTPException, json.JSONDecodeError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError("push did not succeed in time")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


class Gunicorn:
    """gunicorn on a free loopback port, in its own process group so SIGKILL takes all of it."""

    def __init__(self, env: dict[str, str], workers: int | None = 2) -> None:
        """`workers` None: gunicorn.conf.py's count (one a core)."""
        self.env, self.workers = env, workers
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, seconds: float = 30) -> None:
        self.proc = subprocess.Popen(
            # --preload: workers fork from a master that already imported the app, so a killed
            # worker is replaced in milliseconds (importing takes seconds on a busy machine).
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}",
             *(["--workers", str(self.workers)] if self.workers is not None else []),
             "--graceful-timeout", "2", "--preload", "webapp:create_app()"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/api/openapi.json", timeout=2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("gunicorn did not start")

    def kill(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=20)
            self.proc = None

    def workers_pids(self) -> list[int]:
        assert self.proc is not None
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def kill_workers(self, seconds: float = 30) -> None:
        """SIGKILL every worker (mid-request, mid-commit); the master forks new ones."""
        old = self.workers_pids()
        for pid in old:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            fresh = [p for p in self.workers_pids() if p not in old]
            if len(fresh) >= self.workers:
                return
            time.sleep(0.02)
        raise AssertionError("gunicorn did not replace its workers")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None


def app_env(url: str) -> dict[str, str]:
    return {**os.environ, "FLASK_APP": "webapp:create_app", "GRIDWALK_ENV": "development",
            "DATABASE_URL": url}


class PgCluster:
    """A throwaway PostgreSQL cluster whose server can be restarted (tests/pg.py's recipe)."""

    def __init__(self) -> None:
        bindir = find_pg_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found")
        self.bindir = bindir
        self.tmp = tempfile.mkdtemp(prefix="gw-pgf-")
        if os.geteuid() == 0:
            shutil.chown(self.tmp, "postgres")
        self.data, self.port = os.path.join(self.tmp, "data"), _free_port()
        subprocess.run(_as_postgres([f"{bindir}/initdb", "-D", self.data, "-A", "trust", "-U", "gridwalk",
                                     "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://gridwalk@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(_as_postgres([f"{self.bindir}/pg_ctl", "-D", self.data, *args]),
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._ctl("-l", os.path.join(self.tmp, "log"), "-w", "start", "-o",
                  f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c max_connections=300 -c shared_buffers=256MB")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop")

    def remove(self) -> None:
        subprocess.run(_as_postgres([f"{self.bindir}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextmanager
def pg_restartable() -> Iterator[PgCluster]:
    cluster = PgCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()
