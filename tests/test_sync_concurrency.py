"""Several processes pushing at once against PostgreSQL: races become merges or conflicts,
never duplicates, and every mutation has exactly one outcome."""
from __future__ import annotations

import multiprocessing
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import valid_id
from webapp.models import Conflict, Person, SyncMutation, Visit
from geo.assign import CellFinder

pytestmark = pytest.mark.slow  # races between processes: `make test`, not `make check`

WORKERS = 4
ROUNDS = 5


def _worker(url: str, token: str, batches: list[dict[str, Any]], out: Any) -> None:
    from webapp.registry import recording
    from sync import devices
    from sync.batch import parse_batch
    from sync.push import apply_batch
    from webapp.base.dbsetup import configure_engine

    recording.install()  # a fresh process: the commit hooks, as in the app

    engine = create_engine(url)
    configure_engine(engine)
    statuses = []
    for body in batches:
        for attempt in range(5):
            with Session(engine) as session:
                try:
                    device = devices.authenticate(session, token)
                    result = apply_batch(session, device, parse_batch(body), locate=CellFinder(session))
                    session.commit()
                    statuses += [o.status for o in result.outcomes]
                    break
                except OperationalError:
                    # A transient fault (the API answers 5xx): the phone sends the batch again.
                    session.rollback()
        else:
            statuses.append("gave_up")
    out.put(statuses)
    engine.dispose()


def test_concurrent_pushes(db_session: Session, database_url: str, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the races are PostgreSQL's: SQLite serialises writers")
    from sync import devices

    s = db_session
    cell = f.cell(s)
    house = f.house(s, cell)
    resident = f.person(s, name="老住户", id_number=valid_id("31011719600101123"))
    f.residency(s, resident, house, start_date=date(2010, 1, 1))
    tokens = []
    for i in range(WORKERS):
        user = f.user(s, f"race{i}", "coordinator")
        cell.coordinators.append(user)
        s.flush()
        tokens.append(devices.register(s, user, None, None).token)
    s.commit()
    newcomer_id = valid_id("42010119900101123")
    plans = []
    for w in range(WORKERS):
        batches, seq = [], 1
        for r in range(ROUNDS):
            muts = [
                {"id": str(uuid.uuid4()), "seq": seq, "type": "visit", "op": "create", "record_id": str(uuid.uuid4()),
                 "fields": {"house_id": str(house.id), "visited_at": "2026-11-26T08:00:00Z", "outcome": "verified"}},
                {"id": str(uuid.uuid4()), "seq": seq + 1, "type": "person", "op": "update",
                 "record_id": str(resident.id), "base_version": 1,
                 "fields": {"note": f"w{w}r{r}"}, "base": {"note": None}},
                # Every worker records the same newcomer offline, under its own record id.
                {"id": str(uuid.uuid4()), "seq": seq + 2, "type": "person", "op": "create",
                 "record_id": str(uuid.uuid4()), "fields": {"name": "新来的", "id_number": newcomer_id}},
            ]
            seq += 3
            batches.append({"protocol": 1, "mutations": muts})
        plans.append(batches)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(database_url, tokens[w], plans[w], out)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    statuses = [status for r in results for status in r]
    assert "gave_up" not in statuses
    assert len(statuses) == WORKERS * ROUNDS * 3
    s.expire_all()
    sent = WORKERS * ROUNDS
    assert s.scalar(select(func.count()).select_from(Visit)) == sent
    assert s.scalar(select(func.count()).select_from(SyncMutation)) == WORKERS * ROUNDS * 3
    # One newcomer, however many phones recorded them at the same moment. Sent without a
    # residency, the first one lives nowhere, which only the centre sees: the others' records
    # are held for the centre (sync/reach.py), each a case that names the first.
    live = s.scalars(select(Person).where(Person.id_number == newcomer_id, Person.deleted_at.is_(None))).all()
    [first] = [p for p in live if p.claims_id_of is None]
    held = [p for p in live if p.claims_id_of is not None]
    assert {p.claims_id_of for p in held} <= {first.id}
    assert s.scalar(select(func.count()).select_from(Conflict).where(Conflict.kind == "identity_elsewhere")) == len(held)
    assert set(statuses) <= {"applied", "merged", "conflict"}
