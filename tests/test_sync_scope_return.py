"""A house that leaves the device's cells and comes back brings back everything on it, also
what this very device recorded there: the phone dropped those rows when the house left, so
they are not echoes it still holds (protocol 2 leaves out what the phone holds: sync/echo.py).

Found by tests/e2e/test_fieldapp_paging.py (a third of its runs): a residency the phone had
registered at the door, its house moved to another cell and back by the console; the pull
that brought the house back left the residency out as the phone's own write, and no later
pull sent it again.
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests import factories as f
from tests.test_sync_redirect import _assert_equal, _fresh_number, _phone
from webapp.models import House
from webapp.registry.scope_changes import record_house_moves


def _move(s: Session, house_id: str, to: Any) -> None:
    house = s.get(House, uuid.UUID(house_id))
    assert house is not None
    record_house_moves(s, [(house.id, house.cell_id, to.id)])
    house.cell_id = to.id
    s.commit()


@pytest.mark.parametrize("protocol", [1, 2])
def test_a_house_back_in_the_cells_brings_back_the_phones_own_records(db_session: Session, protocol: int) -> None:
    s = db_session
    committee = f.committee(s)
    mine, elsewhere = f.cell(s, committee), f.cell(s, committee)
    house = str(f.house(s, mine).id)
    s.commit()
    phone = _phone(s, mine, "door", protocol)
    person, stay = str(uuid.uuid4()), str(uuid.uuid4())
    phone.queue("person", "create", person, {"name": "门口登记", "id_type": "resident", "id_number": _fresh_number(),
                                             "category": "migrant"})
    phone.queue("residency", "create", stay, {"person_id": person, "house_id": house, "start_date": "2026-11-01",
                                              "relation": "tenant"})
    phone.sync()
    assert not phone.outbox and stay in phone.rows["residency"]

    _move(s, house, elsewhere)  # the console moves the house to another cell...
    phone.pull()
    assert house not in phone.rows.get("house", {}) and stay not in phone.rows.get("residency", {})
    _move(s, house, mine)  # ...and back
    phone.pull()
    assert stay in phone.rows.get("residency", {}) and person in phone.rows.get("person", {})
    _assert_equal(s, phone)
