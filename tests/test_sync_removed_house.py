"""A house demolished (or split) in the console while a phone was offline: what the phone
brings for it afterwards (webapp/registry/removed_houses.py, sync/apply.py, sync/resolve.py)."""
from __future__ import annotations

import uuid
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.resolve import Decision, open_case, resolve
from sync.resolve_rules import ResolveError
from tests import factories as f
from tests.test_sync import field, mutation, new_person, push  # noqa: F401  (the fixture)
from webapp.models import Conflict, House, Residency, Room, Visit
from webapp.registry.house_history import demolish
from webapp.validation.codes import make_house_code


@pytest.fixture
def gone(field: SimpleNamespace) -> SimpleNamespace:  # noqa: F811
    """Cell A's house a2 demolished; the centre's user to decide."""
    demolish(field.s, field.a2, None, date(2026, 11, 1), "旧区改造")
    field.centre = f.user(field.s, "centre1", "centre")
    field.s.commit()
    return field


def _stay(area: SimpleNamespace, person_id: Any, house_id: Any, **extra: Any) -> dict[str, Any]:
    return mutation(area, "residency", "create", fields={"person_id": str(person_id), "house_id": str(house_id),
                                                          "start_date": "2026-10-20", "relation": "tenant", **extra})


def _conflict(s: Session, outcome: dict[str, Any]) -> Conflict:
    assert outcome["status"] == "conflict", outcome
    conflict = s.get(Conflict, uuid.UUID(outcome["conflict_id"]))
    assert conflict is not None
    return conflict


def test_a_new_occupant_of_a_demolished_house_waits_for_the_centre(gone: SimpleNamespace) -> None:
    p = new_person(gone, "42010119950505123")
    stay = _stay(gone, p["record_id"], gone.a2.id)
    visit = mutation(gone, "visit", "create", fields={"house_id": str(gone.a2.id), "visited_at": "2026-11-26T08:00:00Z",
                                                      "outcome": "verified", "plate_scanned": True})
    person_out, stay_out, visit_out = push(gone, p, stay, visit)
    assert person_out["status"] == "applied" and visit_out["status"] == "applied"  # history: a visit is kept
    conflict = _conflict(gone.s, stay_out)
    assert conflict.kind == "house_removed"
    assert conflict.device_values["house_id"] == str(gone.a2.id)  # what was typed, whole
    assert conflict.registry_values["house_id"] == str(gone.a2.id)
    assert gone.s.scalars(select(Residency).where(Residency.house_id == gone.a2.id,
                                                  Residency.end_date.is_(None))).all() == []
    assert gone.s.get(Visit, uuid.UUID(visit["record_id"])) is not None


def test_a_stay_that_ended_before_the_house_went_is_history(gone: SimpleNamespace) -> None:
    p = new_person(gone, "42010119950505123")
    stay = _stay(gone, p["record_id"], gone.a2.id, end_date="2026-10-31")
    assert [o["status"] for o in push(gone, p, stay)] == ["applied", "applied"]


def test_a_room_or_a_plate_at_a_demolished_house_waits_for_the_centre(gone: SimpleNamespace) -> None:
    room = mutation(gone, "room", "create", fields={"house_id": str(gone.a2.id), "name": "B室", "kind": "bedroom"})
    plate = mutation(gone, "house_code", "create", fields={"house_id": str(gone.a2.id), "code": make_house_code("310117XY9"),
                                                           "kind": "plate"})
    outcomes = push(gone, room, plate)
    assert [_conflict(gone.s, o).kind for o in outcomes] == ["house_removed", "house_removed"]
    assert gone.s.scalars(select(Room).where(Room.house_id == gone.a2.id)).all() == []


def test_a_stay_moved_onto_a_demolished_house_waits_for_the_centre(gone: SimpleNamespace) -> None:
    stay = gone.s.scalar(select(Residency).where(Residency.person_id == gone.person.id))
    assert stay is not None and stay.house_id == gone.a1.id
    move = mutation(gone, "residency", "update", stay.id, base_version=stay.version,
                    fields={"house_id": str(gone.a2.id)}, base={"house_id": str(gone.a1.id)})
    assert _conflict(gone.s, push(gone, move)[0]).kind == "house_removed"
    gone.s.refresh(stay)
    assert stay.house_id == gone.a1.id


def test_the_stays_the_demolition_ended_stay_editable(gone: SimpleNamespace) -> None:
    # The demolition decided about them: a later correction of one is not a new occupant.
    person = f.person(gone.s, name="李四")
    ended = f.residency(gone.s, person, gone.a1, start_date=date(2020, 1, 1))
    house = gone.s.get(House, gone.a1.id)
    assert house is not None
    demolish(gone.s, house, None, date(2026, 11, 2), "旧区改造")
    gone.s.commit()
    gone.s.refresh(ended)
    fix = mutation(gone, "residency", "update", ended.id, base_version=ended.version,
                   fields={"relation": "owner"}, base={"relation": ended.relation})
    assert push(gone, fix)[0]["status"] == "applied"


def test_the_centre_may_place_the_stay_elsewhere_but_not_at_the_removed_house(gone: SimpleNamespace) -> None:
    p = new_person(gone, "42010119950505123")
    conflict = _conflict(gone.s, push(gone, p, _stay(gone, p["record_id"], gone.a2.id))[1])
    case = open_case(gone.s, conflict)
    take_all = {row.name: Decision("take") for row in case.rows if row.device is not None}
    with pytest.raises(ResolveError) as refused:
        resolve(gone.s, case, take_all, gone.centre.id, expected_version=None)
    assert [e.code for e in refused.value.errors] == ["house.removed"]
    gone.s.rollback()
    case = open_case(gone.s, gone.s.get(Conflict, conflict.id))
    elsewhere = {**take_all, "house_id": Decision("edit", str(gone.a1.id))}
    assert resolve(gone.s, case, elsewhere, gone.centre.id, expected_version=None).action == "create"
    gone.s.commit()
    placed = gone.s.get(Residency, conflict.record_id)
    assert placed is not None and placed.house_id == gone.a1.id and placed.end_date is None
