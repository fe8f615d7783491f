"""A house's point decides its cell at the next `flask cells assign` (geo/assign.py). A phone
that moved a house's point into a cell outside its own handed the house, and everyone living
there, to that cell's committee at the next run: the console refused it, the push took it.
Now the push keeps it for the centre as an `out_of_scope` conflict, as it does any write
that reaches outside the device's cells (sync/reach.py)."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import inside
from webapp.models import Conflict, House

NOW = "2026-11-26T08:00:00Z"
NOWHERE = (121.0, 31.5)  # in no cell: assign leaves a house there where it is


def _phone(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/devices", json={"username": username, "password": "pw", "label": f"{username}'s phone"})
    assert r.status_code == 201, r.get_data(as_text=True)
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _push(client: Any, phone: dict[str, str], mutation: dict[str, Any]) -> dict[str, Any]:
    body = {"protocol": 2, "mutations": [{"id": str(uuid.uuid4()), "seq": 1, "at": NOW, **mutation}]}
    r = client.post("/api/sync/push", json=body, headers=phone)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    [outcome] = r.get_json()["outcomes"]
    return outcome


def _point(cell: Any) -> tuple[float, float]:
    lon, lat = inside(cell)
    return float(lon), float(lat)


def _move(house: House, point: tuple[float, float]) -> dict[str, Any]:
    return {"type": "house", "op": "update", "record_id": str(house.id), "base_version": house.version,
            "fields": {"lon": point[0], "lat": point[1]}}


def _nothing_moves(db_session: Session) -> None:
    from geo.assign import assign_houses

    assert assign_houses(db_session, dry_run=True).moved == []


@pytest.mark.parametrize("username, where", [
    ("coord", "B1"),  # another committee's cell
    ("coord", "A2"),  # a cell of one's committee that is not one's own
    ("lead", "B1"),   # a grid lead's cells are A1 and A2
])
def test_a_phone_may_not_move_a_house_point_into_a_cell_it_does_not_cover(
        client: Any, placed: Any, db_session: Session, username: str, where: str) -> None:
    house = placed.houses["A1"]
    point = _point(placed.cells[where])
    outcome = _push(client, _phone(client, username), _move(house, point))
    assert outcome["status"] == "conflict", outcome
    db_session.rollback()
    conflict = db_session.get(Conflict, uuid.UUID(outcome["conflict_id"]))
    assert conflict is not None and conflict.kind == "out_of_scope"
    assert conflict.device_values.get("lon") == point[0]  # what was typed waits for the centre
    saved = db_session.get(House, house.id)
    assert (saved.lon, saved.lat, saved.version) == (None, None, house.version)
    _nothing_moves(db_session)


def test_a_new_house_in_ones_cell_with_a_point_in_another_is_kept_for_the_centre(
        client: Any, placed: Any, db_session: Session) -> None:
    new_id = uuid.uuid4()
    lon, lat = _point(placed.cells["B1"])
    outcome = _push(client, _phone(client, "coord"), {
        "type": "house", "op": "create", "record_id": str(new_id),
        "fields": {"cell_id": str(placed.cells["A1"].id), "road": "长乐路", "number": "12号", "lon": lon, "lat": lat}})
    assert outcome["status"] == "conflict", outcome
    db_session.rollback()
    assert db_session.get(House, new_id) is None
    assert db_session.scalar(select(Conflict.kind).where(Conflict.id == uuid.UUID(outcome["conflict_id"]))) \
        == "out_of_scope"


@pytest.mark.parametrize("username, where", [
    ("coord", "A1"),   # inside the house's own cell
    ("coord", None),   # in no cell at all
    ("lead", "A2"),    # another of one's own cells
])
def test_a_point_inside_ones_cells_or_in_none_is_applied(client: Any, placed: Any, db_session: Session,
                                                         username: str, where: str | None) -> None:
    house = placed.houses["A1"]
    point = _point(placed.cells[where]) if where else NOWHERE
    outcome = _push(client, _phone(client, username), _move(house, point))
    assert outcome["status"] == "applied", outcome
    db_session.rollback()
    saved = db_session.get(House, house.id)
    assert (saved.lon, saved.lat) == point


def test_an_unchanged_point_is_not_judged_again(client: Any, placed: Any, db_session: Session) -> None:
    # A house placed by hand may sit where its point says another cell: editing its note
    # from the phone, the point sent again as the phone holds it, is an ordinary edit.
    house = placed.houses["A1"]
    house.lon, house.lat = _point(placed.cells["B1"])
    house.cell_manual = True
    db_session.commit()
    move = _move(house, (house.lon, house.lat))
    move["fields"]["note"] = "门牌已换新"
    outcome = _push(client, _phone(client, "coord"), move)
    assert outcome["status"] == "applied", outcome
