"""The push door of the scope matrix: a device of each scoped role tries, for every synced
type and operation, to read, reveal or write a record outside its cells — directly, through
merges and aliases, by moving a person in, by moving a house to another cell.

For each attack: nothing outside changes; the answer is the one the same mutation gets when
the outside record does not exist at all (so it reveals nothing); and the device's later
pulls carry nothing of the outside. (sync/reach.py; docs/sync.md "Scope".)
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.conftest import valid_id
from tests.sync_client import Phone, full_outcomes, registered_phone
from webapp.models import (
    Base, Conflict, HouseCode, HouseFlag, Person, RecordAlias, Residency, Review, Room, Task, Unit, Visit,
)
from webapp.registry.tasks import create_task

pytestmark = pytest.mark.slow  # every attack by every role: `make test`, not `make check`

DEVICE_ROLES = {"coordinator": "coord", "grid_lead": "lead", "committee": "comm"}
NOW = "2026-11-26T08:00:00Z"


@pytest.fixture
def world(db_session, area):  # type: ignore[no-untyped-def]
    """`area`, plus a record of every synced kind in B1 (another committee's cell), someone
    who lived in A1 and lives in B1 now, and an alias that means B1's resident."""
    s = db_session
    a1, b1 = area.houses["A1"], area.houses["B1"]
    outside = {
        "flag": HouseFlag(house_id=b1.id, kind="vacant", note="乙"),
        "unit": Unit(name="乙公司", house_id=b1.id, kind="enterprise", contacts=[{"name": "乙", "phone": "13900000000"}]),
        "visit": Visit(house_id=b1.id, visited_at=datetime(2026, 11, 20, tzinfo=timezone.utc), outcome="verified"),
        "code": HouseCode(code="B1CODE0001", kind="plate", house_id=b1.id),
        "room": Room(house_id=b1.id, name="乙室"),
    }
    s.add_all(outside.values())
    s.flush()
    outside["task"] = create_task(s, b1, "moved_in", "乙的任务", contact_phone="13700000000")
    resident = area.persons["B1"]
    resident.set_phone("13911112222")
    area.persons["none"].set_phone("13922223333")
    resident.note, resident.hukou_address, resident.permit_number = "乙的备注", "江苏省南通市如皋市某路1号", "P3101"
    b1_residency = resident.current_residency()
    outside["review"] = Review(house_id=b1.id, cell_id=area.cells["B1"].id, residency_id=b1_residency.id,
                               person_id=resident.id, person_name=resident.name, kind="registration")
    mover = f.person(s, name="搬走的人", id_number=valid_id("31011719800101555"), phone="13611112222")
    f.residency(s, mover, a1, start_date=date(2020, 1, 1), end_date=date(2023, 12, 31))
    f.residency(s, mover, b1, start_date=date(2024, 1, 1))
    alias = uuid.uuid4()
    s.add(RecordAlias(alias_id=alias, canonical_id=resident.id, record_type="person",
                      created_at=datetime(2026, 11, 1, tzinfo=timezone.utc)))
    s.add(outside["review"])
    own_task = create_task(s, a1, "moved_in", "甲的任务")
    s.commit()
    former = s.scalar(select(Residency).where(Residency.person_id == mover.id, Residency.house_id == a1.id))
    return {"area": area, "outside": outside, "mover": mover, "alias": alias, "former": former,
            "own_task": own_task, "b1_residency": b1_residency}


def _m(kind: str, op: str, record_id: Any, fields: dict[str, Any], base_version: int | None = None) -> dict[str, Any]:
    return {"type": kind, "op": op, "record_id": str(record_id), "fields": fields,
            "base_version": base_version if base_version is not None else (None if op == "create" else 1),
            "base": {}}


def _fresh() -> str:
    return str(uuid.uuid4())


def _number(n: int) -> str:
    return valid_id(f"42010119900101{n:03d}")


# Each case: (attack, twin). The twin is the same mutation naming records that do not exist
# (random ids, a number and an address nobody has): the device must not tell them apart.
Case = Callable[[dict[str, Any]], list[dict[str, Any]]]


def _cases() -> dict[str, tuple[Case, Case]]:
    a = lambda w: w["area"]  # noqa: E731
    out = lambda w, k: w["outside"][k]  # noqa: E731
    a1 = lambda w: str(a(w).houses["A1"].id)  # noqa: E731
    b1 = lambda w: str(a(w).houses["B1"].id)  # noqa: E731
    b1_person = lambda w: str(a(w).persons["B1"].id)  # noqa: E731
    own_residency = lambda w: a(w).persons["A1"].current_residency()  # noqa: E731

    def person_with_number(number: Callable[[dict[str, Any]], str]) -> Case:
        def build(w: dict[str, Any]) -> list[dict[str, Any]]:
            pid = _fresh()
            return [_m("person", "create", pid, {"name": "新登记", "id_number": number(w), "phone": "13500001111",
                                                  "note": "门口登记"}),
                    _m("residency", "create", _fresh(), {"person_id": pid, "house_id": a1(w), "start_date": "2026-11-20"})]
        return build

    def house_at(address: Callable[[dict[str, Any]], dict[str, Any]]) -> Case:
        return lambda w: [_m("house", "create", _fresh(), {"cell_id": str(a(w).cells["A1"].id), **address(w)})]

    def b1_address(w: dict[str, Any]) -> dict[str, Any]:
        h = a(w).houses["B1"]
        return {"road": h.road, "number": h.number, "building": h.building, "room": h.room}

    def update(kind: str, rid: Callable[[dict[str, Any]], Any], fields: Any) -> Case:
        return lambda w: [_m(kind, "update", rid(w), fields(w) if callable(fields) else fields)]

    def delete(kind: str, rid: Callable[[dict[str, Any]], Any]) -> Case:
        return lambda w: [_m(kind, "delete", rid(w), {})]

    def create(kind: str, fields: Callable[[dict[str, Any]], dict[str, Any]]) -> Case:
        return lambda w: [_m(kind, "create", _fresh(), fields(w))]

    rand = lambda w: _fresh()  # noqa: E731
    return {
        # Persons: reveal and merge through an ID number; write through an id or an alias.
        "person_create_with_outside_number": (person_with_number(lambda w: a(w).persons["B1"].id_number),
                                              person_with_number(lambda w: _number(7))),
        "person_create_with_centre_only_number": (person_with_number(lambda w: a(w).persons["none"].id_number),
                                                  person_with_number(lambda w: _number(8))),
        "person_update_outside": (update("person", lambda w: b1_person(w), {"phone": "13500002222"}),
                                  update("person", rand, {"phone": "13500002222"})),
        "person_update_through_alias": (update("person", lambda w: w["alias"], {"note": "改"}),
                                        update("person", rand, {"note": "改"})),
        "person_update_former_resident": (update("person", lambda w: w["mover"].id, {"note": "改"}),
                                          update("person", rand, {"note": "改"})),
        "person_employer_outside": (lambda w: [_m("person", "update", a(w).persons["A1"].id,
                                                  {"employer_unit_id": str(w["outside"]["unit"].id)})],
                                    lambda w: [_m("person", "update", a(w).persons["A1"].id,
                                                  {"employer_unit_id": _fresh()})]),
        # Residencies: moving an outside person in, directly, by alias, by reopening, by swapping.
        "residency_move_in": (create("residency", lambda w: {"person_id": b1_person(w), "house_id": a1(w),
                                                             "start_date": "2026-11-20"}),
                              create("residency", lambda w: {"person_id": _fresh(), "house_id": a1(w),
                                                             "start_date": "2026-11-20"})),
        "residency_move_in_by_alias": (create("residency", lambda w: {"person_id": str(w["alias"]), "house_id": a1(w),
                                                                      "start_date": "2026-11-20"}),
                                       create("residency", lambda w: {"person_id": _fresh(), "house_id": a1(w),
                                                                      "start_date": "2026-11-20"})),
        "residency_reopen_former": (update("residency", lambda w: w["former"].id, {"end_date": None}),
                                    update("residency", rand, {"end_date": None})),
        "residency_swap_person": (update("residency", lambda w: own_residency(w).id, lambda w: {"person_id": b1_person(w)}),
                                  update("residency", lambda w: own_residency(w).id, lambda w: {"person_id": _fresh()})),
        "residency_room_outside": (create("residency", lambda w: {"person_id": str(a(w).persons["A1"].id),
                                                                  "house_id": a1(w), "start_date": "2026-11-20",
                                                                  "room_id": str(w["outside"]["room"].id)}),
                                   create("residency", lambda w: {"person_id": str(a(w).persons["A1"].id),
                                                                  "house_id": a1(w), "start_date": "2026-11-20",
                                                                  "room_id": _fresh()})),
        "residency_update_outside": (update("residency", lambda w: w["b1_residency"].id, {"end_date": "2026-11-21"}),
                                     update("residency", rand, {"end_date": "2026-11-21"})),
        "residency_delete_outside": (delete("residency", lambda w: w["b1_residency"].id), delete("residency", rand)),
        # Houses: edit one outside, move one's own out, create at an outside address.
        "house_update_outside": (update("house", lambda w: b1(w), {"note": "越界"}), update("house", rand, {"note": "越界"})),
        "house_moved_to_outside_cell": (update("house", lambda w: a1(w), lambda w: {"cell_id": str(a(w).cells["B1"].id)}),
                                        update("house", lambda w: a1(w), lambda w: {"cell_id": _fresh()})),
        "house_create_at_outside_address": (house_at(b1_address),
                                            house_at(lambda w: {"road": "不存在路", "number": "1", "building": "1",
                                                                "room": "101"})),
        "house_create_in_outside_cell": (create("house", lambda w: {"cell_id": str(a(w).cells["B1"].id), "road": "乙路",
                                                                    "number": "1"}),
                                         create("house", lambda w: {"cell_id": _fresh(), "road": "乙路", "number": "1"})),
        # Everything hanging off a house.
        "house_code_for_outside_house": (create("house_code", lambda w: {"code": "NEWCODE001", "kind": "plate",
                                                                         "house_id": b1(w)}),
                                         create("house_code", lambda w: {"code": "NEWCODE001", "kind": "plate",
                                                                         "house_id": _fresh()})),
        "house_flag_create_outside": (create("house_flag", lambda w: {"house_id": b1(w), "kind": "group_rent"}),
                                      create("house_flag", lambda w: {"house_id": _fresh(), "kind": "group_rent"})),
        "house_flag_update_outside": (update("house_flag", lambda w: out(w, "flag").id, {"note": "改"}),
                                      update("house_flag", rand, {"note": "改"})),
        "house_flag_moved_out": (lambda w: [_m("house_flag", "create", (fid := _fresh()), {"house_id": a1(w), "kind": "vacant"}),
                                            _m("house_flag", "update", fid, {"house_id": b1(w)})],
                                 lambda w: [_m("house_flag", "create", (fid := _fresh()), {"house_id": a1(w),
                                                                                            "kind": "illegal_building"}),
                                            _m("house_flag", "update", fid, {"house_id": _fresh()})]),
        "house_flag_delete_outside": (delete("house_flag", lambda w: out(w, "flag").id), delete("house_flag", rand)),
        "room_create_outside": (create("room", lambda w: {"house_id": b1(w), "name": "乙2", "kind": "partitioned"}),
                                create("room", lambda w: {"house_id": _fresh(), "name": "乙2", "kind": "partitioned"})),
        "room_update_outside": (update("room", lambda w: out(w, "room").id, {"living_area": 3.0}),
                                update("room", rand, {"living_area": 3.0})),
        "room_moved_out": (lambda w: [_m("room", "create", (rid := _fresh()), {"house_id": a1(w), "name": "甲2"}),
                                      _m("room", "update", rid, {"house_id": b1(w)})],
                           lambda w: [_m("room", "create", (rid := _fresh()), {"house_id": a1(w), "name": "甲2"}),
                                      _m("room", "update", rid, {"house_id": _fresh()})]),
        "room_delete_outside": (delete("room", lambda w: out(w, "room").id), delete("room", rand)),
        "unit_create_outside": (create("unit", lambda w: {"name": "新公司", "house_id": b1(w)}),
                                create("unit", lambda w: {"name": "新公司", "house_id": _fresh()})),
        "unit_update_outside": (update("unit", lambda w: out(w, "unit").id, {"name": "改名"}),
                                update("unit", rand, {"name": "改名"})),
        "unit_delete_outside": (delete("unit", lambda w: out(w, "unit").id), delete("unit", rand)),
        "visit_at_outside_house": (create("visit", lambda w: {"house_id": b1(w), "visited_at": NOW, "outcome": "verified"}),
                                   create("visit", lambda w: {"house_id": _fresh(), "visited_at": NOW,
                                                              "outcome": "verified"})),
        "task_close_outside": (update("task", lambda w: out(w, "task").id, {"status": "done", "outcome": "x"}),
                              update("task", rand, {"status": "done", "outcome": "x"})),
        "task_closed_with_outside_visit": (update("task", lambda w: w["own_task"].id,
                                                 lambda w: {"status": "done", "outcome": "x",
                                                            "closed_visit_id": str(out(w, "visit").id)}),
                                          update("task", lambda w: w["own_task"].id,
                                                 lambda w: {"status": "done", "outcome": "x", "closed_visit_id": _fresh()})),
        "review_decided_outside": (update("review", lambda w: out(w, "review").id, {"status": "approved"}),
                                   update("review", rand, {"status": "approved"})),
    }


CASES = _cases()
# A create under an id that exists outside answers unlike a fresh id (a record cannot be made
# twice under one id): only someone who once held that UUID can name it (SECURITY.md).
ID_TAKEN = {"visit_create_over_outside_id": lambda w: [_m("visit", "create", w["outside"]["visit"].id,
                                                          {"house_id": str(w["area"].houses["A1"].id),
                                                           "visited_at": NOW, "outcome": "verified"})]}


def _outside_rows(s, role_user) -> dict[tuple[str, str], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every row of every synced table that lies outside the user's scope, as it is now."""
    from webapp.registry.scope import scope_for

    s.rollback()
    scope = scope_for(s, role_user)
    houses = {h for h, cell in s.execute(select(f.House.id, f.House.cell_id)) if not scope.covers_cell(cell)}
    persons = set(s.scalars(select(Person.id).where(~scope.person_clause())))
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for table in Base.metadata.sorted_tables:
        if "version" not in table.c:
            continue
        if table.name == "house":
            where = table.c.id.in_(houses)
        elif table.name == "person":
            where = table.c.id.in_(persons)
        elif "house_id" in table.c:
            where = table.c.house_id.in_(houses)
        else:
            continue
        for row in s.execute(select(table).where(where)).mappings():
            rows[(table.name, str(row["id"]))] = dict(row)
    return rows


@pytest.fixture(params=[1, 2], ids=["protocol1", "protocol2"])
def protocol(request: pytest.FixtureRequest) -> int:
    """The old app's protocol, still served, and the new one: the same answers to attacks."""
    return int(request.param)


def _phone(client, username: str, log: list[Any], protocol: int = 1) -> Phone:  # type: ignore[no-untyped-def]
    return registered_phone(client, username, log, protocol=protocol)


def _push(phone: Phone, mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    batch = []
    for m in mutations:
        batch.append({**m, "id": _fresh(), "seq": phone.next_seq, "at": NOW})
        phone.next_seq += 1
    answer = phone.send("push", {"protocol": phone.protocol, "mutations": batch}, None)["outcomes"]
    return full_outcomes(batch, answer) if phone.protocol >= 2 else answer  # type: ignore[no-any-return]


def _shape(outcome: dict[str, Any]) -> tuple[Any, ...]:
    """What an answer tells, without the ids that differ between any two answers."""
    return (outcome["status"], outcome["type"], tuple(sorted(k for k in outcome if k not in ("id", "seq", "record_id"))),
            tuple(e["code"] for e in outcome.get("errors", [])), outcome.get("version"), outcome.get("first_status"))


def _secrets(world: dict[str, Any]) -> list[str]:
    """Text of the outside that must never reach the device."""
    out = []
    for p in (world["area"].persons["B1"], world["area"].persons["none"], world["mover"]):
        out += [p.id_number, p.phone, str(p.id)]
    out += ["乙的备注", "江苏省南通市如皋市", "13700000000", "13900000000", str(world["outside"]["unit"].id),
            str(world["outside"]["visit"].id), str(world["area"].houses["B1"].id)]
    return [x for x in out if x]


@pytest.mark.parametrize("case", sorted(CASES) + sorted(ID_TAKEN))
@pytest.mark.parametrize("role", sorted(DEVICE_ROLES))
def test_push_never_reads_reveals_or_writes_outside(client, db_session, world, role: str, case: str,
                                                   protocol: int) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    user = world["area"].users[role]
    before = _outside_rows(s, user)
    log: list[Any] = []
    phone = _phone(client, DEVICE_ROLES[role], log, protocol)
    attack, twin = CASES.get(case, (ID_TAKEN.get(case), None))
    assert attack is not None
    mutations = attack(world)
    answered = _push(phone, mutations)
    assert _outside_rows(s, user) == before, "a push changed a record outside the device's cells"
    if twin is not None:
        assert [_shape(o) for o in answered] == [_shape(o) for o in _push(phone, twin(world))]
    assert not any(o.get("canonical_id") for o in answered)
    phone.pull()
    # Every answer: the pulls, and the outcomes (which echo only what the device itself sent,
    # and in protocol 2 what the server set beside it).
    seen = json.dumps(log, ensure_ascii=False)
    typed = json.dumps(mutations, ensure_ascii=False)  # what the device typed may come back
    leaked = [x for x in _secrets(world) if x in seen and x not in typed]
    assert not leaked, f"outside data reached the device: {leaked}"


def test_outside_number_becomes_a_case_for_the_centre_not_a_merge(client, db_session, world,
                                                                 protocol: int) -> None:  # type: ignore[no-untyped-def]
    """The registration stands as typed, held; the centre gets the case naming both records,
    and a merge from it moves the real person in (after which they reach the phone normally)."""
    s = db_session
    outside_person = world["area"].persons["B1"]
    phone = _phone(client, "coord", [], protocol)
    pid = _fresh()
    answered = _push(phone, [
        _m("person", "create", pid, {"name": outside_person.name, "id_number": outside_person.id_number}),
        _m("residency", "create", _fresh(), {"person_id": pid, "house_id": str(world["area"].houses["A1"].id),
                                            "start_date": "2026-11-20"})])
    assert [o["status"] for o in answered] == ["applied", "applied"]
    s.rollback()
    held = s.get(Person, uuid.UUID(pid))
    assert held is not None and held.claims_id_of == outside_person.id
    [case] = s.scalars(select(Conflict).where(Conflict.kind == "identity_elsewhere")).all()
    assert (case.record_id, case.detail["other"], case.cell_id) == (held.id, str(outside_person.id), None)
    # The centre merges: the real person now lives in A1, the held record is an alias of them.
    from sync import combine

    combine.combine(s, "person", outside_person, held, world["area"].users["centre"].id)
    s.commit()
    phone.pull()
    assert str(outside_person.id) in phone.rows["person"] and pid not in phone.rows.get("person", {})
    assert s.get(Residency, world["b1_residency"].id).end_date is not None


def test_the_same_attack_by_the_centre_device_is_ordinary_work(client, db_session, world) -> None:  # type: ignore[no-untyped-def]
    """The checks bind scoped devices only: the centre's sees every cell, so a known number
    is merged as always (no held record, no case)."""
    s = db_session
    phone = _phone(client, "centre", [])
    pid = _fresh()
    [answer] = _push(phone, [_m("person", "create", pid, {"name": "王B1", "id_number": world["area"].persons["B1"].id_number})])
    assert (answer["status"], answer.get("canonical_id")) == ("merged", str(world["area"].persons["B1"].id))
    s.rollback()
    assert s.scalar(select(Conflict).where(Conflict.kind == "identity_elsewhere")) is None


def test_tasks_and_rows_of_other_kinds_stay_untouched(db_session, world) -> None:  # type: ignore[no-untyped-def]
    """The matrix names a record of every kind pushed (guard: a new synced kind needs a row)."""
    from sync.wire import RECORD_TYPES

    named = {m["type"] for attack, _twin in CASES.values() for m in attack(world)}
    assert named == set(RECORD_TYPES), f"synced types without an attack: {set(RECORD_TYPES) - named}"
    ops = {(m["type"], m["op"]) for attack, _twin in CASES.values() for m in attack(world)}
    from sync.batch import DELETABLE

    wanted = {(t, "create") for t, r in RECORD_TYPES.items() if r.creatable} | \
             {(t, "update") for t, r in RECORD_TYPES.items() if r.editable} | {(t, "delete") for t in DELETABLE}
    assert wanted <= ops, f"type × op without an attack: {sorted(wanted - ops)}"
    assert db_session.scalar(select(Task).where(Task.id == world["outside"]["task"].id)) is not None
