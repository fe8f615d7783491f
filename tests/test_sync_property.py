"""Property: phones editing offline, syncing in any order with lost responses and retries,
end up agreeing with the server, and every mutation is accounted for exactly once."""
from __future__ import annotations

import itertools
import os
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import valid_id
from tests.sync_client import Phone, direct, expand_page
from sync import devices
from sync.pull import pull
from webapp.models import Conflict, SyncMutation, Visit

pytestmark = pytest.mark.slow  # a property campaign: `make test`, not `make check`

PHONES = 3
_ids = itertools.count(1)


def _fresh_id(area: str) -> str:
    """A valid ID number never used before in this test session (examples share a database)."""
    n = next(_ids)
    born = date(1950, 1, 1) + timedelta(days=n % 20_000)
    return valid_id(f"{area}{born:%Y%m%d}{n // 20_000 % 1000:03d}")

step = st.one_of(
    st.tuples(st.just("edit"), st.integers(0, PHONES - 1), st.integers(0, 9), st.sampled_from(["phone", "note", "name"]),
              st.integers(0, 3)),
    st.tuples(st.just("newcomer"), st.integers(0, PHONES - 1), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("visit"), st.integers(0, PHONES - 1), st.integers(0, 9)),
    st.tuples(st.just("moveout"), st.integers(0, PHONES - 1), st.integers(0, 9)),
    st.tuples(st.just("move"), st.integers(0, PHONES - 1), st.integers(0, 9), st.integers(0, 9)),
    st.tuples(st.just("sync"), st.integers(0, PHONES - 1), st.booleans()),
)

VALUES = {"phone": ["13900000001", "13900000002", "13700000003", None],
          "note": ["甲", "乙", "丙", None], "name": ["张一", "张二", "李三", "王四"]}


def _world(s: Session, protocol: int) -> tuple[list[Phone], list[str]]:
    committee = f.committee(s)
    cell = f.cell(s, committee)
    houses = [f.house(s, cell) for _ in range(4)]
    for i, house in enumerate(houses[:2]):
        person = f.person(s, name=f"原住{i}", id_number=_fresh_id("310117"))
        f.residency(s, person, house, start_date=date(2020, 1, 1))
    phones = []
    for _ in range(PHONES):
        user = f.user(s, f"p{next(_ids)}", "coordinator")
        cell.coordinators.append(user)
        s.flush()
        device = devices.register(s, user, None, None).device
        phones.append(Phone(direct(s, device, protocol, limit=7), protocol=protocol))  # small pages: paging
        phones[-1].device = device  # type: ignore[attr-defined]
    s.commit()
    return phones, [str(h.id) for h in houses]


def _pick(rows: dict[str, Any], index: int, where: Any = lambda r: True) -> dict[str, Any] | None:
    candidates = sorted((r for r in rows.values() if where(r)), key=lambda r: r["id"])
    return candidates[index % len(candidates)] if candidates else None


def _act(phone: Phone, houses: list[str], op: tuple[Any, ...], shared_ids: list[str]) -> None:
    kind = op[0]
    persons = phone.rows.get("person", {})
    residencies = phone.rows.get("residency", {})
    if kind == "edit":
        person = _pick(persons, op[2])
        if person:
            phone.queue("person", "update", person["id"], {op[3]: VALUES[op[3]][op[4]]})
    elif kind == "newcomer":
        # Sometimes two phones record the same newcomer offline: the same ID number twice.
        number = shared_ids[op[2] % len(shared_ids)] if op[3] else _fresh_id("420101")
        pid = str(uuid.uuid4())
        phone.queue("person", "create", pid, {"name": "新人", "id_number": number, "category": "migrant"})
        phone.queue("residency", "create", str(uuid.uuid4()), {"person_id": pid, "house_id": houses[op[2] % len(houses)],
                                                                "start_date": "2026-11-01"})
    elif kind == "visit":
        phone.queue("visit", "create", str(uuid.uuid4()), {"house_id": houses[op[2] % len(houses)],
                                                            "visited_at": "2026-11-26T08:00:00Z", "outcome": "verified"})
    elif kind == "moveout":
        res = _pick(residencies, op[2], lambda r: r.get("end_date") is None and r.get("version", 0) > 0)
        if res:
            phone.queue("residency", "update", res["id"], {"end_date": "2026-11-20", "end_reason": "搬走"})
    elif kind == "move":
        person = _pick(persons, op[2], lambda r: r.get("version", 0) > 0)
        if person:
            phone.queue("residency", "create", str(uuid.uuid4()), {"person_id": person["id"],
                                                                    "house_id": houses[op[3] % len(houses)],
                                                                    "start_date": "2026-11-15"})
    elif kind == "sync":
        phone.sync(drop_response=op[2])


# A short run in `make test`; GRIDWALK_PROPERTY_EXAMPLES=200 for a long one.
@settings(max_examples=int(os.environ.get("GRIDWALK_PROPERTY_EXAMPLES", "12")), deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=5, max_size=30))
@pytest.mark.parametrize("protocol", [1, 2])
def test_phones_converge_and_nothing_is_lost_or_doubled(db_session: Session, steps: list[tuple[Any, ...]],
                                                        protocol: int) -> None:
    """Protocol 2 also: no pull sends a phone its own writes back, and still every phone
    holds every value the server holds (what the server set came in the push's answers)."""
    s = db_session
    phones, houses = _world(s, protocol)
    shared_ids = [_fresh_id("510101") for _ in range(2)]
    for phone in phones:
        phone.pull()
    for op in steps:
        _act(phones[op[1]], houses, op, shared_ids)
    for _ in range(2):  # everyone online at the end, responses arrive
        for phone in phones:
            phone.sync()

    sent = [m for phone in phones for m in phone.sent]
    device_ids = [p.device.id for p in phones]  # type: ignore[attr-defined]
    receipts = dict(s.execute(select(SyncMutation.id, SyncMutation.outcome)
                              .where(SyncMutation.device_id.in_(device_ids))).all())
    # Every mutation accounted for, exactly once (the id is the primary key: no doubles).
    assert {uuid.UUID(m["id"]) for m in sent} == set(receipts)
    assert all(not p.outbox for p in phones)
    assert set(receipts.values()) <= {"applied", "merged", "rejected", "blocked", "conflict"}
    conflicts = s.scalar(select(func.count()).select_from(Conflict).where(Conflict.device_id.in_(device_ids)))
    assert conflicts >= sum(1 for o in receipts.values() if o == "conflict")
    visits_sent = {uuid.UUID(m["record_id"]) for m in sent if m["type"] == "visit"}
    assert s.scalar(select(func.count()).select_from(Visit).where(Visit.id.in_(visits_sent))) == len(visits_sent)
    # Every phone holds what the server says its cells hold.
    truth = expand_page(pull(s, phones[0].device, None, limit=100_000, protocol=2)  # type: ignore[attr-defined]
                        .to_wire(2))["changes"]
    s.commit()
    for phone in phones:
        for table in ("house", "person", "residency", "visit"):
            expected = {r["id"]: r for r in truth.get(table, [])}
            held = {rid: r for rid, r in phone.rows.get(table, {}).items()
                    if table != "residency" or r.get("end_date") is None}
            assert {k: r["version"] for k, r in held.items()} == {k: r["version"] for k, r in expected.items()}, table
            for rid, row in expected.items():
                assert {k: held[rid].get(k) for k in row} == row, (table, rid)
