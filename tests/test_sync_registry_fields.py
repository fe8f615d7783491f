"""What a phone records at the door since issue 18, through the push: the structured hukou
address, a fixed line or why there is no number, the permit's dates and endorsement, rooms
with their kind and area (docs/sync.md, record types)."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import valid_id
from webapp.models import Person, Room
from webapp.registry.rules import evaluate


@pytest.fixture
def token(client, area):  # type: ignore[no-untyped-def]
    response = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"})
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


_seq = iter(range(1, 10_000))


def push(client, token, *mutations: dict[str, Any]) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    batch = [{"id": str(uuid.uuid4()), "seq": next(_seq), "base": {}, "base_version": None, **m} for m in mutations]
    response = client.post("/api/sync/push", json={"protocol": 1, "mutations": batch}, headers=token)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["outcomes"]  # type: ignore[no-any-return]


def create(kind: str, fields: dict[str, Any], rid: str | None = None) -> dict[str, Any]:
    return {"type": kind, "op": "create", "record_id": rid or str(uuid.uuid4()), "fields": fields}


def test_a_separated_resident_registered_at_the_door_is_judged(client, token, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: a person added on the phone as 人户分离 got "缺少结构化户籍地址", an error nobody
    could fix. Now the phone sends the structured address and the rule judges it."""
    a1 = area.houses["A1"]
    pid = str(uuid.uuid4())
    outcomes = push(client, token,
                    create("person", {"name": "分离", "id_number": valid_id("31011719700101333"), "category": "separated",
                                      "hukou_region": "310117", "hukou_road": "人民北路", "hukou_number": "105号",
                                      "hukou_building": "2栋", "hukou_room": "302室", "landline": "5781 2345",
                                      "permit_issued": None}, pid),
                    create("residency", {"person_id": pid, "house_id": str(a1.id), "start_date": "2026-11-20"}))
    assert [o["status"] for o in outcomes] == ["applied", "applied"], outcomes
    db_session.rollback()
    person = db_session.get(Person, uuid.UUID(pid))
    assert (person.landline, person.hukou_key, person.hukou_room_key) == ("021-57812345", "人民北路|105|2", "302")
    flags = evaluate(db_session, today=date(2026, 11, 26), codes=("hukou_separation",),
                     cell_ids=frozenset({area.cells["A1"].id}))
    assert [(fl.record_id, fl.kind) for fl in flags] == [(person.id, "separated")]


@pytest.mark.parametrize(("fields", "field", "code"), [
    ({"hukou_region": "310108"}, "hukou_region", "region.unknown"),  # retired: not offered by the picker
    ({"hukou_region": "3101"}, "hukou_region", "region.format"),
    ({"landline": "13812345678"}, "landline", "landline.mobile"),
    ({"landline": "021-6234567"}, "landline", "landline.length"),
    ({"phone_status": "maybe"}, "phone_status", "field.choice"),
    ({"permit_issued": "2026-01-01", "permit_expiry": "2025-12-31"}, "permit_expiry", "permit.dates"),
])
def test_the_shared_rules_refuse_at_the_field(client, token, area, fields, field, code) -> None:  # type: ignore[no-untyped-def]
    [outcome] = push(client, token, {"type": "person", "op": "update", "record_id": str(area.persons["A1"].id),
                                     "base_version": 1, "fields": fields})
    assert outcome["status"] == "rejected"
    assert [(e["field"], e["code"]) for e in outcome["errors"]] == [(field, code)]


def test_an_endorsement_recorded_on_the_phone_names_its_user(client, token, area, db_session) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    person.permit_issued, person.permit_expiry = date(2025, 11, 20), date(2028, 11, 20)
    db_session.commit()
    flags = lambda: [fl.kind for fl in evaluate(db_session, today=date(2026, 11, 26), codes=("permits",))  # noqa: E731
                     if fl.record_id == person.id]
    assert flags() == ["endorsement_overdue"]
    [outcome] = push(client, token, {"type": "person", "op": "update", "record_id": str(person.id),
                                     "base_version": person.version, "fields": {"permit_endorsed_on": "2026-11-25"},
                                     "base": {"permit_endorsed_on": None}})
    assert outcome["status"] == "applied"
    db_session.rollback()
    db_session.refresh(person)
    assert (person.permit_endorsed_on, person.permit_endorsed_by_id) == (date(2026, 11, 25), area.users["coordinator"].id)
    assert flags() == []  # the due list is cleared


def test_rooms_are_recorded_at_the_door(client, token, area, db_session) -> None:  # type: ignore[no-untyped-def]
    a1 = str(area.houses["A1"].id)
    rid = str(uuid.uuid4())
    outcomes = push(client, token,
                    {"type": "house", "op": "update", "record_id": a1, "base_version": 1,
                     "fields": {"use": "rented", "living_area": 42.5}},
                    create("room", {"house_id": a1, "name": "隔断1", "kind": "partitioned", "living_area": 6.5}, rid),
                    {"type": "residency", "op": "update", "base_version": 1, "fields": {"room_id": rid},
                     "record_id": str(area.persons["A1"].current_residency().id)})
    assert [o["status"] for o in outcomes] == ["applied", "applied", "applied"], outcomes
    db_session.rollback()
    room = db_session.get(Room, uuid.UUID(rid))
    assert (room.name, room.kind, room.living_area) == ("隔断1", "partitioned", 6.5)
    flags = evaluate(db_session, today=date(2026, 11, 26), codes=("group_rent",))
    assert [(fl.record_id, fl.kind) for fl in flags] == [(area.houses["A1"].id, "unfit_room")]
    [bad] = push(client, token, create("room", {"house_id": a1, "name": "x", "kind": "attic"}))
    assert [e["code"] for e in bad["errors"]] == ["field.choice"]
    [gone] = push(client, token, {"type": "room", "op": "delete", "record_id": rid, "base_version": room.version})
    assert gone["status"] == "applied"
    db_session.rollback()
    assert db_session.scalar(select(Room.deleted_at).where(Room.id == room.id)) is not None


def test_a_stay_names_a_room_of_its_own_house(client, token, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """A room is part of one house, and the group-renting rule counts persons per room: a stay
    at A1 in a room of another house (in the same cell) was applied as sent."""
    from tests import factories as f

    other = f.house(db_session, area.cells["A1"])
    room = Room(house_id=other.id, name="主卧", kind="bedroom")
    db_session.add(room)
    db_session.commit()
    pid = str(uuid.uuid4())
    person = create("person", {"name": "新住户", "id_type": "resident", "id_number": valid_id("31011719900101555"),
                               "category": "migrant"}, pid)
    stay = create("residency", {"person_id": pid, "house_id": str(area.houses["A1"].id), "room_id": str(room.id),
                                "start_date": "2026-11-20"})
    made, refused = push(client, token, person, stay)
    assert made["status"] == "applied"
    assert refused["status"] == "rejected" and [e["code"] for e in refused["errors"]] == ["residency.room_house"]
    [moved] = push(client, token, {"type": "residency", "op": "update", "base_version": 1, "fields": {"room_id": str(room.id)},
                                   "record_id": str(area.persons["A1"].current_residency().id)})
    assert moved["status"] == "rejected" and [e["code"] for e in moved["errors"]] == ["residency.room_house"]
    # The same room at its own house: taken.
    pid = str(uuid.uuid4())
    again = create("person", {**person["fields"], "id_number": valid_id("31011719900101566")}, pid)
    outcomes = push(client, token, again, create("residency", {**stay["fields"], "person_id": pid, "house_id": str(other.id)}))
    assert [o["status"] for o in outcomes] == ["applied", "applied"], outcomes
