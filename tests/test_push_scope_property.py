"""Property (non-interference): whatever a scoped device pushes, in any order, what it is told
(every push's answers, every pull) is the same whether or not the records outside its cells
exist — and none of them changes.

Each example builds two worlds with the same inside records under the same ids: X also holds
another committee's house, its residents (one reachable only through an alias, one with no
home at all) and a record of every kind hanging off that house; Y holds none of it. The same
batches are pushed in both, built beforehand from the drawn steps (naming outside ids, their
ID numbers and address, inside ids, fresh ones). What the device sees must not differ.

Left out on purpose: change numbers (seq, the pull cursor's marks), which count the whole
district's writes, and a plate code equal to an outside house's (plate codes are public: the
plate page `/h/<code>` answers for any of them). SECURITY.md says both.
"""
from __future__ import annotations

import json
import os
import random
import uuid
from datetime import date, datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sync import devices
from sync.batch import parse_batch
from sync.pull import pull
from sync.push import apply_batch
from sync.wire import wire_name
from tests.conftest import _empty_tables, valid_id
from tests.sync_client import expand_page, full_outcomes
from geo.assign import CellFinder
from webapp.models import (
    Base, Cell, Committee, Device, House, HouseFlag, Person, RecordAlias, Residency, Unit, User, Visit, cell_coordinator,
)

pytestmark = pytest.mark.slow  # a property campaign (two worlds): `make test`, not `make check`

U = {name: uuid.UUID(int=i + 1) for i, name in enumerate(
    ["com_a", "com_b", "cell_a1", "cell_a2", "cell_b1", "in_h", "in_h2", "in_p", "in_r", "device",
     "out_h", "out_p", "out_r", "none_p", "alias", "out_f", "out_u", "out_v"])}
N = {"in": valid_id("31011719700101111"), "out": valid_id("31011719800202222"),
     "none": valid_id("31011719900303333"), "fresh1": valid_id("42010119950404444"),
     "fresh2": valid_id("42010119960505555")}
OUT_ADDRESS = {"road": "乙路", "number": "9", "building": "2", "room": "202"}
IN_ADDRESS = {"road": "甲路", "number": "1", "building": "1", "room": "101"}
FRESH_ADDRESS = {"road": "新路", "number": "5", "building": "5", "room": "505"}
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _square(lon: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[lon, 31.0], [lon + 0.002, 31.0], [lon + 0.002, 31.002],
                                                [lon, 31.002], [lon, 31.0]]]}


def _person(pid: uuid.UUID, name: str, number: str, phone: str) -> Person:
    p = Person(id=pid, name=name, category="migrant", sex="1", birth_date=date(1980, 1, 1))
    p.set_id_number(number)
    p.set_phone(phone)
    return p


def _build(s: Session, outside: bool) -> Device:
    s.add_all([Committee(id=U["com_a"], code="CA", name="甲居委"), Committee(id=U["com_b"], code="CB", name="乙居委")])
    s.flush()
    s.add_all([Cell(id=U["cell_a1"], code="A1", name="甲一", committee_id=U["com_a"], boundary=_square(121.2)),
               Cell(id=U["cell_a2"], code="A2", name="甲二", committee_id=U["com_a"], boundary=_square(121.3)),
               Cell(id=U["cell_b1"], code="B1", name="乙一", committee_id=U["com_b"], boundary=_square(121.4))])
    user = User(id=1, username="coord", display_name="协管员", password_hash="x", role="coordinator")
    s.add(user)
    s.flush()
    s.execute(cell_coordinator.insert().values(cell_id=U["cell_a1"], user_id=user.id))
    s.add_all([House(id=U["in_h"], cell_id=U["cell_a1"], **IN_ADDRESS),
               House(id=U["in_h2"], cell_id=U["cell_a1"], road="甲路", number="3"),
               _person(U["in_p"], "甲住户", N["in"], "13800000001")])
    s.flush()
    s.add(Residency(id=U["in_r"], person_id=U["in_p"], house_id=U["in_h"], start_date=date(2020, 1, 1)))
    if outside:
        s.add_all([House(id=U["out_h"], cell_id=U["cell_b1"], **OUT_ADDRESS),
                   _person(U["out_p"], "乙住户", N["out"], "13800000002"),
                   _person(U["none_p"], "无住所", N["none"], "13800000003")])
        s.flush()
        s.add_all([Residency(id=U["out_r"], person_id=U["out_p"], house_id=U["out_h"], start_date=date(2021, 1, 1)),
                   RecordAlias(alias_id=U["alias"], canonical_id=U["out_p"], record_type="person", created_at=T0),
                   HouseFlag(id=U["out_f"], house_id=U["out_h"], kind="vacant"),
                   Unit(id=U["out_u"], name="乙公司", house_id=U["out_h"], kind="enterprise"),
                   Visit(id=U["out_v"], house_id=U["out_h"], visited_at=T0, outcome="verified")])
    s.flush()
    device = devices.register(s, user, None, None).device
    s.commit()
    return device


PERSONS = ["in_p", "out_p", "none_p", "alias", "new_p1", "new_p2"]
HOUSES = ["in_h", "in_h2", "out_h", "new_h1"]
step = st.one_of(
    st.tuples(st.just("person_create"), st.sampled_from(["new_p1", "new_p2"]), st.sampled_from(sorted(N))),
    st.tuples(st.just("person_update"), st.sampled_from(PERSONS), st.sampled_from(["note", "phone", "id_number"]),
              st.sampled_from(sorted(N))),
    st.tuples(st.just("residency_create"), st.sampled_from(PERSONS), st.sampled_from(HOUSES), st.booleans()),
    st.tuples(st.just("residency_update"), st.sampled_from(["in_r", "out_r", "new_r"]), st.booleans()),
    st.tuples(st.just("house_update"), st.sampled_from(HOUSES), st.sampled_from(["note", "cell_a1", "cell_b1"])),
    st.tuples(st.just("house_create"), st.sampled_from(["cell_a1", "cell_b1"]),
              st.sampled_from(["in", "out", "fresh"])),
    st.tuples(st.just("visit"), st.sampled_from(HOUSES)),
    st.tuples(st.just("flag"), st.sampled_from(HOUSES + ["out_f"])),
    st.tuples(st.just("unit"), st.sampled_from(HOUSES + ["out_u"]), st.sampled_from(["create", "update", "delete"])),
    st.tuples(st.just("push")),
)


def _batches(steps: list[tuple[Any, ...]], rng: random.Random) -> list[list[dict[str, Any]]]:
    """The mutations, fixed before either world runs (ids from a seeded generator)."""
    fresh = lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))  # noqa: E731
    ids = {**{k: str(v) for k, v in U.items()}, "new_p1": fresh(), "new_p2": fresh(), "new_h1": fresh(),
           "new_r": fresh()}
    address = {"in": IN_ADDRESS, "out": OUT_ADDRESS, "fresh": FRESH_ADDRESS}
    batches: list[list[dict[str, Any]]] = [[]]
    seq = 0

    def add(kind: str, op: str, rid: str, fields: dict[str, Any]) -> None:
        nonlocal seq
        seq += 1
        batches[-1].append({"id": fresh(), "seq": seq, "type": kind, "op": op, "record_id": rid, "fields": fields,
                            "base_version": None if op == "create" else 1, "base": {}, "at": "2026-11-26T08:00:00Z"})

    for op in steps:
        kind = op[0]
        if kind == "push":
            batches.append([])
        elif kind == "person_create":
            add("person", "create", ids[op[1]], {"name": "登记", "id_number": N[op[2]], "phone": "13500000000"})
        elif kind == "person_update":
            value = {"note": "改", "phone": "13600000000", "id_number": N[op[3]]}[op[2]]
            add("person", "update", ids[op[1]], {op[2]: value})
        elif kind == "residency_create":
            rid = ids["new_r"] if not any(m["record_id"] == ids["new_r"] for b in batches for m in b) else fresh()
            add("residency", "create", rid, {"person_id": ids[op[1]], "house_id": ids[op[2]],
                                             "start_date": "2026-11-20", **({"end_date": "2026-11-25"} if op[3] else {})})
        elif kind == "residency_update":
            add("residency", "update", ids[op[1]], {"end_date": "2026-11-21" if op[2] else None})
        elif kind == "house_update":
            fields = {"note": "改"} if op[2] == "note" else {"cell_id": ids[op[2]]}
            add("house", "update", ids[op[1]], fields)
        elif kind == "house_create":
            add("house", "create", ids["new_h1"] if op[2] == "fresh" else fresh(), {"cell_id": ids[op[1]], **address[op[2]]})
        elif kind == "visit":
            add("visit", "create", fresh(), {"house_id": ids[op[1]], "visited_at": "2026-11-26T08:00:00Z",
                                              "outcome": "verified"})
        elif kind == "flag":
            if op[1] == "out_f":
                add("house_flag", "update", ids["out_f"], {"note": "改"})
            else:
                add("house_flag", "create", fresh(), {"house_id": ids[op[1]], "kind": "group_rent"})
        elif kind == "unit":
            if op[2] == "create":
                add("unit", "create", fresh(), {"name": "新单位", "house_id": ids[op[1] if op[1] != "out_u" else "out_h"]})
            else:
                add("unit", op[2], ids["out_u"] if op[1] == "out_u" else fresh(), {"name": "改"} if op[2] == "update" else {})
    return [b for b in batches if b]


# Set by the server at the moment of writing, or counting the whole district's changes.
VOLATILE = {"seq", "changed_at", "created_at", "closed_at", "raised_at", "decided_at", "at"}
# Rows the server makes under ids of its own, by every name a protocol calls them (a protocol 1
# page says `tip` for task: compared with their ids, a batch that moved someone out failed).
SERVER_MADE = {wire_name(t, p) for t in ("task", "review", "house_event") for p in (1, 2)}


def _seen_pull(page: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for table, rows in page["changes"].items():
        clean = [{k: v for k, v in r.items() if k not in VOLATILE and (k != "id" or table not in SERVER_MADE)}
                 for r in rows]
        changes[table] = sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in clean)
    return {"changes": changes, "evict": {t: sorted(i) for t, i in page["evict"].items()},
            "more": page["more"], "snapshot": page["snapshot"]}


def _seen_outcome(o: dict[str, Any]) -> tuple[Any, ...]:
    return (o["seq"], o["status"], o["type"], o["record_id"], o.get("canonical_id"), o.get("version"),
            o.get("blocked_by"), o.get("first_status"), "conflict_id" in o,
            tuple((e["field"], e["code"]) for e in o.get("errors", [])))


def _run(s: Session, engine: Engine, outside: bool, batches: list[list[dict[str, Any]]],
         protocol: int = 1) -> tuple[list[Any], dict[Any, Any]]:
    s.close()
    _empty_tables(engine)
    device = _build(s, outside)
    outside_rows = _outside(s)
    seen: list[Any] = []
    cursor = None

    def pull_all(cursor: str | None) -> str | None:
        while True:
            page = pull(s, device, cursor, limit=100_000, protocol=protocol).to_wire(protocol)
            s.commit()
            if protocol >= 2:
                page = expand_page(page)
            seen.append(_seen_pull(page))
            cursor = page["cursor"]
            if not page["more"]:
                return cursor

    cursor = pull_all(None)
    for batch in batches:
        result = apply_batch(s, device, parse_batch({"protocol": protocol, "mutations": batch}), locate=CellFinder(s))
        s.commit()
        answers = [o.to_wire(protocol) for o in result.outcomes]
        # Protocol 2 answers name the seq only, and add what the server set (compared too).
        answers = full_outcomes(batch, answers) if protocol >= 2 else answers
        seen.append([(_seen_outcome(o), json.dumps(o.get("set"), sort_keys=True)) for o in answers])
        cursor = pull_all(cursor)
    pull_all(None)  # a first sync from scratch, too
    assert _outside(s) == outside_rows, "a push changed a record outside the device's cells"
    return seen, outside_rows


def _outside(s: Session) -> dict[tuple[str, str], dict[str, Any]]:
    s.expire_all()
    outside_ids = {str(U[k]) for k in ("out_h", "out_p", "out_r", "none_p", "out_f", "out_u", "out_v")}
    rows = {}
    for table in Base.metadata.sorted_tables:
        if "version" in table.c:
            for row in s.execute(select(table)).mappings():
                if str(row["id"]) in outside_ids:
                    rows[(table.name, str(row["id"]))] = dict(row)
    return rows


@settings(max_examples=int(os.environ.get("GRIDWALK_PROPERTY_EXAMPLES", "12")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=14), seed=st.integers(0, 2**32))
# Moving the device's own resident to its other house: the server opens a moved_out task.
@example(steps=[("residency_create", "in_p", "in_h2", False)], seed=0)
@pytest.mark.parametrize("protocol", [1, 2])
def test_a_scoped_device_learns_nothing_of_the_outside_and_changes_none_of_it(
        db_session: Session, engine: Engine, steps: list[tuple[Any, ...]], seed: int, protocol: int) -> None:
    batches = _batches(steps, random.Random(seed))
    with_outside, outside_rows = _run(db_session, engine, True, batches, protocol)
    assert len(outside_rows) == 7
    without, _ = _run(db_session, engine, False, batches, protocol)
    assert with_outside == without
