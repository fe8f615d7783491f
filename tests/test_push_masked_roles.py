"""A role that sees residents' numbers masked (grid leads, committees: webapp/registry/privacy.py)
must not learn them through a push's answers. The merge compared what it sent with what is
stored: "equal, nothing to do" (`merged`) against a `field` conflict told a grid lead which
of the 10,000 numbers its mask allows was the phone, two pushes of 5,000 guesses, unaudited.
Here a few guesses with the true one among them: every answer must be alike."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import valid_id
from webapp.models import Conflict, Person

NOW = "2026-11-26T08:00:00Z"


@pytest.fixture
def lead(client: Any) -> dict[str, str]:
    """A grid lead's phone (cells A1 and A2)."""
    r = client.post("/api/devices", json={"username": "lead", "password": "pw", "label": "lead's phone"})
    assert r.status_code == 201, r.get_data(as_text=True)
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _push(client: Any, headers: dict[str, str], mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = client.post("/api/sync/push", json={"protocol": 2, "mutations": mutations}, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return sorted(r.get_json()["outcomes"], key=lambda o: o["seq"])


def _edits(person: Person, field: str, guesses: list[str], *, version: int, base: bool) -> list[dict[str, Any]]:
    return [{"id": str(uuid.uuid4()), "seq": i + 1, "type": "person", "op": "update", "record_id": str(person.id),
             "base_version": version, "fields": {field: g}, "base": {field: g} if base else {}, "at": NOW}
            for i, g in enumerate(guesses)]


def _shape(outcome: dict[str, Any]) -> tuple[Any, ...]:
    """What an answer says, less what differs in every answer (its ids and seq)."""
    return (outcome["status"], outcome.get("version"), outcome.get("canonical_id"), bool(outcome.get("conflict_id")),
            str(outcome.get("errors")))


@pytest.mark.parametrize("field", ["phone", "id_number"])
@pytest.mark.parametrize("base", [False, True], ids=["no base", "the guess as base"])
def test_guesses_at_a_masked_number_all_get_the_same_answer(client: Any, db_session: Session, area: Any, lead: Any,
                                                            field: str, base: bool) -> None:
    person = area.persons["A1"]
    real = getattr(person, field)
    wrong = ["13800005678", "13899995678"] if field == "phone" else \
        [valid_id("11010519491201002"), valid_id("11010519491130002")]
    # Behind the registry's version (the phone's copy is older): the centre decides each.
    outcomes = _push(client, lead, _edits(person, field, [wrong[0], real, wrong[1]], version=person.version + 5,
                                          base=base))
    assert len({_shape(o) for o in outcomes}) == 1, outcomes
    assert {o["status"] for o in outcomes} == {"conflict"}
    db_session.rollback()
    assert getattr(db_session.get(Person, person.id), field) == real  # nothing written


def test_at_the_current_version_a_masked_roles_edit_is_taken(client: Any, db_session: Session, area: Any,
                                                             lead: Any) -> None:
    # The phone holds the registry's version: its new number is written, as from any role.
    person = area.persons["A1"]
    [outcome] = _push(client, lead, _edits(person, "phone", ["13911112222"], version=person.version, base=False))
    assert outcome["status"] == "applied"
    db_session.rollback()
    assert db_session.get(Person, person.id).phone == "13911112222"  # type: ignore[union-attr]


def test_a_masked_role_registering_a_neighbours_number_is_not_told_it_is_theirs(
        client: Any, db_session: Session, area: Any, lead: Any) -> None:
    # A coordinator's phone is merged into the resident it sees (canonical_id). To a grid lead,
    # whose phone shows that resident's number masked, a merge would confirm the guess: the
    # new record stands as typed, held for the centre, answered as a number nobody holds.
    neighbour = area.persons["A2"]
    new = [{"id": str(uuid.uuid4()), "seq": i + 1, "type": "person", "op": "create", "record_id": str(uuid.uuid4()),
            "fields": {"name": "新登记", "id_number": number, "category": "migrant"}, "at": NOW}
           for i, number in enumerate([neighbour.id_number, valid_id("11010519800101123")])]
    taken, free = _push(client, lead, new)
    assert _shape(taken) == _shape(free) == ("applied", 1, None, False, "None")
    db_session.rollback()
    held = db_session.get(Person, uuid.UUID(new[0]["record_id"]))
    assert held is not None and held.claims_id_of == neighbour.id
    case = db_session.scalars(select(Conflict).where(Conflict.kind == "identity_elsewhere")).one()
    assert case.detail["other"] == str(neighbour.id)


def _phone_of(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/devices", json={"username": username, "password": "pw", "label": f"{username}'s phone"})
    assert r.status_code == 201, r.get_data(as_text=True)
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _register(number: str, mobile: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "seq": 1, "type": "person", "op": "create", "record_id": str(uuid.uuid4()),
            "fields": {"name": "新登记", "id_number": number, "phone": mobile, "category": "migrant"}, "at": NOW}


def test_a_masked_roles_own_numbers_come_back_as_it_may_hold_them(client: Any, area: Any, lead: Any) -> None:
    # Protocol 2 sends a phone's own writes back neither in the answer nor in the pull (no
    # echo): a grid lead's phone kept in clear the numbers it typed for a new resident, where a
    # pull gives it their masks. The answer now tells it to drop them (null) beside the masks.
    number, mobile = valid_id("11010519800101123"), "13911112222"
    [outcome] = _push(client, lead, [_register(number, mobile)])
    assert outcome["status"] == "applied"
    told = outcome.get("set", {})
    assert told.get("id_number", "absent") is None and told.get("id_number_masked") == "110***********" + number[-4:]
    assert told.get("phone", "absent") is None and told.get("phone_masked") == "139****2222"
    # The birth date the phone read from the number goes too; the lead's mask shows its year.
    assert told.get("birth_date", "absent") is None and told.get("birth_date_masked", "").startswith("1980")


def test_a_coordinator_is_told_nothing_of_numbers_it_holds_in_clear(client: Any, area: Any) -> None:
    [outcome] = _push(client, _phone_of(client, "coord"), [_register(valid_id("11010519800101123"), "13911112222")])
    assert outcome["status"] == "applied"
    assert not {"id_number", "phone", "id_number_masked", "phone_masked"} & outcome.get("set", {}).keys()
