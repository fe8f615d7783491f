"""sync/write.py's slow path, on both backends: a write the batch's own checks could not
foresee (another phone registered the same ID number between this push's read and its write)
fails alone. That mutation becomes a `constraint` conflict for the centre with what was typed;
every other mutation of the batch is stored, numbered and logged as usual."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import sync.moves
import sync.state
from tests.conftest import valid_id
from webapp.models import Conflict, Person, RecordVersion, Visit


@pytest.fixture
def phone(client: Any, area: Any) -> dict[str, str]:
    response = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _mutation(seq: int, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "seq": seq, "type": kind, "op": "create", "record_id": str(uuid.uuid4()),
            "fields": fields}


def test_a_write_that_loses_a_race_fails_alone(client: Any, phone: dict[str, str], area: Any, db_session: Session,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The race, made certain: the push does not see the number's holder when it reads, as when
    # the other phone's push commits between this one's read and its write.
    for module in (sync.state, sync.moves):
        monkeypatch.setattr(module, "live_persons", lambda *_args: None)
    house = area.houses["A1"]
    before = _visits(db_session, house.id)
    first = _mutation(1, "visit", house_id=str(house.id), visited_at="2026-11-26T08:00:00Z", outcome="verified")
    twin = _mutation(2, "person", name="王重号", id_type="resident", id_number=area.persons["A1"].id_number,
                     category="migrant")
    last = _mutation(3, "person", name="李新来", id_type="resident", id_number=valid_id("31011719920303123"),
                     category="migrant")
    r = client.post("/api/sync/push", json={"protocol": 2, "mutations": [first, twin, last]}, headers=phone)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    outcomes = {o["seq"]: o for o in r.get_json()["outcomes"]}
    assert outcomes[1]["status"] == outcomes[3]["status"] == "applied", outcomes
    assert outcomes[2]["status"] == "conflict" and outcomes[2]["conflict_id"], outcomes

    db_session.rollback()
    assert db_session.get(Person, uuid.UUID(twin["record_id"])) is None
    conflict = db_session.get(Conflict, uuid.UUID(outcomes[2]["conflict_id"]))
    assert conflict is not None and conflict.kind == "constraint"
    assert conflict.device_values["name"] == "王重号"  # what was typed waits for the centre
    visits = _visits(db_session, house.id)
    assert set(visits) - set(before) == {uuid.UUID(first["record_id"])}
    newcomer = db_session.get(Person, uuid.UUID(last["record_id"]))
    assert newcomer is not None and newcomer.name == "李新来"
    # Numbered (the next pull sends them) and in the change log, as any push's rows.
    assert visits[uuid.UUID(first["record_id"])].seq is not None and newcomer.seq is not None
    logged = db_session.scalars(select(RecordVersion.record_id).where(RecordVersion.record_id == newcomer.id)).all()
    assert logged == [newcomer.id]


def test_an_update_that_loses_a_race_fails_alone(client: Any, phone: dict[str, str], area: Any, db_session: Session,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The same through the UPDATE path: a correction of a number to one another phone has
    just registered. The person keeps the registry's number and version; the visit is stored."""
    for module in (sync.state, sync.moves):
        monkeypatch.setattr(module, "live_persons", lambda *_args: None)
    house, person = area.houses["A1"], area.persons["A1"]
    version, number = person.version, person.id_number
    visit = _mutation(1, "visit", house_id=str(house.id), visited_at="2026-11-26T08:00:00Z", outcome="verified")
    correction = {**_mutation(2, "person", id_number=area.persons["B1"].id_number), "op": "update",
                  "record_id": str(person.id), "base_version": version, "base": {"id_number": number}}
    r = client.post("/api/sync/push", json={"protocol": 2, "mutations": [visit, correction]}, headers=phone)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    outcomes = {o["seq"]: o for o in r.get_json()["outcomes"]}
    assert outcomes[1]["status"] == "applied" and outcomes[2]["status"] == "conflict", outcomes

    db_session.rollback()
    kept = db_session.get(Person, person.id)
    assert kept is not None and kept.id_number == number and kept.version == version
    conflict = db_session.get(Conflict, uuid.UUID(outcomes[2]["conflict_id"]))
    assert conflict is not None and conflict.kind == "constraint"
    assert db_session.get(Visit, uuid.UUID(visit["record_id"])) is not None


def _visits(s: Session, house_id: uuid.UUID) -> dict[uuid.UUID, Visit]:
    return {v.id: v for v in s.scalars(select(Visit).where(Visit.house_id == house_id))}
