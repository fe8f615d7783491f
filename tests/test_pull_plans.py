"""SQLite's plans for a phone's everyday pull (tests/plans.py). SQLite keeps no statistics, so
it cannot weigh one index against another and took the scope's: each incremental pull read
every row its area ever had in a changed table (all its visits, residencies, codes...) to
keep the few numbered since the last pull, and every receipt the phone ever had to find the
page's. Both grew with history without bound; the seq index and the record ids keep a pull's
work to what changed. PostgreSQL plans with statistics and the values (sync/pull.py)."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from sync.pull import TABLES, Cursor, _held, _rows
from sync.state import is_postgresql
from tests.plans import plan_of
from webapp.registry.sequence import committed_seq

# Tables whose rows belong to a house (or are houses): the scope is a list of houses.
HOUSE_SCOPED = [t for t in TABLES if t.name == "house" or "house_id" in t.c]


@pytest.fixture
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL chooses with statistics and the values (a custom plan per pull)")


@pytest.mark.usefixtures("sqlite_only")
@pytest.mark.parametrize("table", HOUSE_SCOPED, ids=[t.name for t in HOUSE_SCOPED])
def test_an_incremental_pull_walks_the_seq_index(db_session: Session, area: Any, table: Any) -> None:
    s = db_session
    cells = frozenset({area.cells["A1"].id, area.cells["A2"].id})
    high = committed_seq(s)
    cursor = Cursor(max(0, high - 3), high, TABLES.index(table))

    plan = plan_of(s, table.name, lambda: _rows(s, table, cells, cursor, False, 100))
    assert f"SEARCH {table.name} USING INDEX ix_{table.name}_seq (seq>? AND seq<?)" in plan, plan


@pytest.mark.usefixtures("sqlite_only")
def test_a_later_page_starts_the_seq_index_where_the_last_ended(db_session: Session, area: Any) -> None:
    s = db_session
    table = next(t for t in TABLES if t.name == "visit")
    cells = frozenset({area.cells["A1"].id})
    cursor = Cursor(0, committed_seq(s) + 100, TABLES.index(table), after_seq=5, after_id=str(uuid.uuid4()))

    plan = plan_of(s, "visit", lambda: _rows(s, table, cells, cursor, False, 100))
    assert "ix_visit_seq (seq>? AND seq<?)" in plan, plan  # seq >= after_seq bounds the walk


@pytest.mark.usefixtures("sqlite_only")
def test_a_pages_receipts_are_found_by_record(db_session: Session, area: Any) -> None:
    s = db_session

    def ask() -> None:
        s.connection().execute(_held(is_postgresql(s)), {"device": uuid.uuid4(),
                                                         "ids": [uuid.uuid4() for _ in range(10)]}).all()

    plan = plan_of(s, "sync_mutation", ask)
    assert "ix_sync_mutation_record_id" in plan and "uq_sync_mutation_device_seq" not in plan, plan
