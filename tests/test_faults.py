"""Faults: lost responses, a server SIGKILLed mid-push, a full disk, PostgreSQL restarting.

In every case the client resends its outbox until it gets an answer, and afterwards the
registry holds every mutation exactly once (sync_mutation rows = distinct ids sent), every
record it carried once, and no invented conflict. `make test` runs FAULT_TRIALS=10 kills;
`make faults` runs 200.
"""
from __future__ import annotations

import pytest
import os
import random
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from tests import faults
from tests.conftest import _config_for
from tests.sync_client import Phone

pytestmark = pytest.mark.slow  # kill trials: gunicorn and PostgreSQL killed mid-push: `make test`, not `make check`

TRIALS = int(os.environ.get("FAULT_TRIALS", "10"))
BATCH = 25
# Starting gunicorn imports the app (seconds on a busy machine): most trials kill the workers
# that serve the pushes, every FULL_RESTART_EVERY-th the whole server.
FULL_RESTART_EVERY = int(os.environ.get("FAULT_FULL_RESTART_EVERY", "5"))


def test_dropped_responses_are_resent_not_doubled(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """The server commits, the phone never hears: it resends, and nothing is doubled."""
    from webapp.models import Conflict, SyncMutation, Visit

    token = client.post("/api/devices", json={"username": "coord", "password": "pw"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def send(kind: str, body: dict[str, Any] | None, cursor: str | None) -> dict[str, Any]:
        if kind == "push":
            r = client.post("/api/sync/push", json=body, headers=headers)
        else:
            r = client.get("/api/sync/pull?protocol=1" + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()  # type: ignore[no-any-return]

    phone = Phone(send)
    phone.pull()
    house = str(area.houses["A1"].id)
    for round_ in range(3):
        for i in range(5):
            phone.queue("visit", "create", str(__import__("uuid").uuid4()),
                        {"house_id": house, "outcome": "verified", "visited_at": "2026-11-26T08:00:00Z",
                         "note": f"{round_}-{i}"})
        phone.push(drop_response=True)  # committed on the server, answer lost
        assert len(phone.outbox) == 5 * (round_ + 1) - 5 * round_ or phone.outbox
        outcomes = phone.push()  # resend: every one is already_applied, with the first outcome
        assert {o["status"] for o in outcomes} == {"already_applied"} and not phone.outbox
        assert {o["first_status"] for o in outcomes} == {"applied"}
    db_session.rollback()
    from sqlalchemy import func, select

    assert db_session.scalar(select(func.count()).select_from(SyncMutation)) == 15
    assert db_session.scalar(select(func.count()).select_from(Visit)) == 15
    assert db_session.scalar(select(func.count()).select_from(Conflict)) == 0


def _kill_trials(url: str, trials: int, rng: random.Random, workers: int = 2) -> None:
    """Push batches while SIGKILLing the whole gunicorn at random moments; restart; retry."""
    houses = faults.seed(url)
    server = faults.Gunicorn(faults.app_env(url), workers=workers)
    server.start()
    phone = faults.Http(server.base)
    phone.register()
    sent: list[dict[str, Any]] = []
    try:
        for trial in range(trials):
            batch = faults.visits(houses, len(sent) + 1, BATCH)
            sent += batch
            answers: list[dict[str, Any]] = []
            pusher = threading.Thread(target=lambda b=batch: answers.append(phone.push_until_done(b)))
            pusher.start()
            time.sleep(rng.uniform(0, 0.08))  # before, during or just after the commit
            if trial % FULL_RESTART_EVERY == 0:
                server.kill()  # master and workers: the whole server dies, and is started again
                server.start()
            else:
                server.kill_workers()  # the processes serving requests die; the master replaces them
            pusher.join(timeout=90)
            assert not pusher.is_alive() and answers, f"trial {trial}: the client never got an answer"
            statuses = {o.get("first_status") or o["status"] for o in answers[0]["outcomes"]}
            assert statuses == {"applied"}, (trial, statuses)
    finally:
        server.stop()
    found = faults.counts(url)
    assert found == {"sync_mutation": len(sent), "distinct_mutation": len({m["id"] for m in sent}),
                     "visit": len(sent), "conflict": 0}, found


def test_sigkill_during_pushes_loses_nothing(tmp_path: Path) -> None:
    _kill_trials(f"sqlite:///{tmp_path / 'kill.sqlite3'}", TRIALS, random.Random(8))


def test_full_disk_on_sqlite_is_a_clear_error(tmp_path: Path) -> None:
    from webapp.app import create_app
    from webapp.extensions import db

    url = f"sqlite:///{tmp_path / 'full.sqlite3'}"
    houses = faults.seed(url)
    app = create_app(_config_for(url))
    client = app.test_client()
    token = client.post("/api/devices", json={"username": "coord", "password": "pw"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    with app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        engine.dispose()

        def cap(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute(f"PRAGMA max_page_count = {int(pages) + 30}")

        event.listen(engine, "connect", cap)
    applied, seq, status, body = 0, 1, 200, None
    for _ in range(200):  # bounded: the cap is hit within a few batches
        r = client.post("/api/sync/push", json={"protocol": 1, "mutations": faults.visits(houses, seq, 40)},
                        headers=headers)
        status, body = r.status_code, r.get_json()
        if status != 200:
            break
        applied += 40
        seq += 40
    assert status == 507, (status, body)
    assert r.mimetype == "application/problem+json" and body["code"] == "storage_full"
    assert r.headers["Retry-After"]
    assert applied > 0
    with app.app_context():
        event.remove(engine, "connect", cap)
        engine.dispose()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        engine.dispose()
    assert faults.counts(url)["visit"] == applied  # earlier data intact, the failed batch absent
    # Space back: the very same batch goes through.
    r = client.post("/api/sync/push", json={"protocol": 1, "mutations": faults.visits(houses, seq, 40)},
                    headers=headers)
    assert r.status_code == 200
    assert faults.counts(url) | {} == {"sync_mutation": applied + 40, "distinct_mutation": applied + 40,
                                       "visit": applied + 40, "conflict": 0}


def test_postgres_restart_during_pushes() -> None:
    """PostgreSQL goes away and comes back while a phone pushes: its retries succeed."""
    with faults.pg_restartable() as cluster:
        houses = faults.seed(cluster.url)
        server = faults.Gunicorn(faults.app_env(cluster.url), workers=2)
        server.start()
        phone = faults.Http(server.base)
        phone.register()
        sent: list[dict[str, Any]] = []
        errors: list[BaseException] = []

        def pushes() -> None:
            try:
                for _ in range(12):
                    batch = faults.visits(houses, len(sent) + 1, BATCH)
                    sent.extend(batch)
                    answer = phone.push_until_done(batch, seconds=60)
                    assert {o.get("first_status") or o["status"] for o in answer["outcomes"]} == {"applied"}
            except BaseException as error:  # noqa: BLE001  (reported by the main thread)
                errors.append(error)

        try:
            pusher = threading.Thread(target=pushes)
            pusher.start()
            for _ in range(2):
                time.sleep(0.3)
                cluster.stop("fast")
                time.sleep(0.5)
                cluster.start()
            pusher.join(timeout=120)
            assert not pusher.is_alive() and not errors, errors
        finally:
            server.stop()
        found = faults.counts(cluster.url)
        assert found == {"sync_mutation": len(sent), "distinct_mutation": len(sent), "visit": len(sent),
                         "conflict": 0}, found
