"""How each request begins its SQLite transaction: a safe method DEFERRED (under WAL it never
waits for a writer), everything else IMMEDIATE (the write lock first, so a push that reads
and then writes cannot fail half-way with SQLITE_BUSY). Decided per request by the app, not
inherited: these tests run inside `db_session`'s "only reads" context, as a test did when a
push began DEFERRED here while production began it IMMEDIATE."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import csrf_token
from tests.statements import app_statements
from webapp.base.timeutil import utcnow


@pytest.fixture
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL has no BEGIN mode: its writers wait for row locks")


def _begins(app: Any, run: Any) -> list[str]:
    return [s for s in app_statements(app, run) if s.startswith("BEGIN")]


@pytest.fixture
def headers(client: Any) -> dict[str, str]:
    r = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"})
    assert r.status_code == 201, r.get_data(as_text=True)
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


@pytest.mark.usefixtures("sqlite_only")
def test_a_push_begins_immediate_whatever_its_caller_declared(app, client, area, headers,  # type: ignore[no-untyped-def]
                                                              db_session: Session) -> None:
    now = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    visit = {"id": str(uuid.uuid4()), "seq": 1, "type": "visit", "op": "create", "record_id": str(uuid.uuid4()),
             "at": now, "fields": {"house_id": str(area.houses["A1"].id), "visited_at": now,
                                   "outcome": "verified", "plate_scanned": True}}

    def push() -> None:
        r = client.post("/api/sync/push", json={"protocol": 2, "mutations": [visit]}, headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)

    begins = _begins(app, push)
    assert begins and set(begins) == {"BEGIN IMMEDIATE"}, begins


@pytest.mark.usefixtures("sqlite_only")
def test_a_pull_begins_deferred(app, client, area, headers, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    def pull() -> None:
        r = client.get("/api/sync/pull?protocol=2", headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)

    begins = _begins(app, pull)
    # The page is read DEFERRED; the device's note and the export's audit row after it, IMMEDIATE.
    assert begins[0] == "BEGIN DEFERRED" and set(begins[1:]) <= {"BEGIN IMMEDIATE"}, begins
    assert len(begins) == 2, begins  # a first sync sends persons: its export is audited


@pytest.mark.usefixtures("sqlite_only")
def test_a_form_post_begins_immediate(app, client, area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    token = csrf_token(client)

    def log_in() -> None:
        r = client.post("/login", data={"username": "coord", "password": "pw", "csrf_token": token})
        assert r.status_code in (302, 303), r.status_code

    begins = _begins(app, log_in)
    assert begins and set(begins) == {"BEGIN IMMEDIATE"}, begins


@pytest.mark.usefixtures("sqlite_only")
def test_a_console_page_begins_deferred_for_a_logged_in_user(app, client, area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import login

    login(client, "centre")

    def page() -> None:
        r = client.get("/tasks")
        assert r.status_code == 200, r.status_code

    begins = _begins(app, page)
    assert begins and begins[0] == "BEGIN DEFERRED", begins


@pytest.mark.usefixtures("sqlite_only")
def test_the_pull_a_push_carries_begins_deferred_after_the_push_commits(app, client, area, headers,  # type: ignore[no-untyped-def]
                                                                        db_session: Session) -> None:
    def push() -> None:
        r = client.post("/api/sync/push", json={"protocol": 2, "mutations": [], "pull": {"cursor": None}},
                        headers=headers)
        assert r.status_code == 200 and "pull" in r.get_json(), r.get_data(as_text=True)

    begins = _begins(app, push)
    # The push writes; the page is read as a pull's is, without the writer's lock; the export's audit row after it.
    assert begins == ["BEGIN IMMEDIATE", "BEGIN DEFERRED", "BEGIN IMMEDIATE"], begins
