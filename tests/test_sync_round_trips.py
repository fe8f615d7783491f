"""A phone's everyday sync, a push of ten door visits and then a pull, in as few statements as
it needs. On PostgreSQL each statement is a round trip and, at some 0.2-0.6 ms of CPU on the
two sides, what most of a small sync costs (RELIABILITY.md, open model): their number is
what this guards, not their speed. The phone's device row is locked by the very query that
authenticates it, not by a second one."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sync import protocol
from tests.statements import app_statements
from webapp.base.timeutil import utcnow
from webapp.models import SyncProtocol

# Counted as SQLAlchemy sends them (BEGIN on SQLite included; on PostgreSQL a few rows go in
# one INSERT on the driver's own cursor, outside this count, as COPY did).
PUSH = {"postgresql": 10, "sqlite": 14}
PULL = {"postgresql": 9, "sqlite": 9}


@pytest.fixture
def protocol_started(db_session: Session) -> Any:
    """As in a migrated database: protocol 2's start recorded, so it is read once per process
    (without the row, every request looks for it)."""
    db_session.add(SyncProtocol(protocol=protocol.PROTOCOL, since=utcnow()))
    db_session.commit()
    protocol.forget()
    yield
    protocol.forget()


@pytest.mark.usefixtures("protocol_started")
def test_a_small_sync_stays_within_its_statements(app, client, area, backend: str) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"})
    assert r.status_code == 201, r.get_data(as_text=True)
    headers = {"Authorization": f"Bearer {r.get_json()['token']}"}
    cursor = ""

    def pull() -> None:
        nonlocal cursor
        more = True
        while more:
            page = client.get(f"/api/sync/pull?protocol=2&cursor={cursor}", headers=headers)
            assert page.status_code == 200, page.get_data(as_text=True)
            cursor, more = page.get_json()["cursor"], page.get_json()["more"]

    pull()  # the first sync: a snapshot
    seq = 0

    def push() -> None:
        nonlocal seq
        now = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        mutations = []
        for _ in range(10):
            seq += 1
            mutations.append({"id": str(uuid.uuid4()), "seq": seq, "type": "visit", "op": "create",
                              "record_id": str(uuid.uuid4()), "at": now,
                              "fields": {"house_id": str(area.houses["A1"].id), "visited_at": now,
                                         "outcome": "verified", "plate_scanned": True}})
        answer = client.post("/api/sync/push", json={"protocol": 2, "mutations": mutations}, headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert {o["status"] for o in answer.get_json()["outcomes"]} == {"applied"}

    push()
    pull()  # the steady state: what a phone does every few minutes
    pushed, pulled = app_statements(app, push), app_statements(app, pull)
    assert len(pushed) <= PUSH[backend], pushed
    assert len(pulled) <= PULL[backend], pulled
    if backend == "postgresql":
        locks = [q for q in pushed if "FOR UPDATE" in q and q.startswith("SELECT device.id FROM device")]
        assert not locks, locks  # no second query to lock the device
        assert any(q.startswith("SELECT device.") and "FOR UPDATE OF device" in q for q in pushed), pushed
