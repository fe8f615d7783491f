"""A house's life: re-plated, split, demolished — each a new version and an event."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from webapp.models import House, HouseCode, HouseEvent, Residency
from webapp.registry.house_history import HistoryError, SplitPart, demolish, replate, split
from webapp.validation import parse_house_code


def _events(s: Session, house: House) -> list[str]:
    return list(s.scalars(select(HouseEvent.kind).where(HouseEvent.house_id == house.id).order_by(HouseEvent.at)))


def test_replate_retires_the_old_code_which_still_resolves(db_session: Session) -> None:
    s = db_session
    house = f.house(s, f.cell(s), code="A1CODE0001")
    new = replate(s, house, None, "plate stolen")
    s.commit()
    assert parse_house_code(new.code) == new.code and new.code != "A1CODE0001"
    codes = {c.code: c for c in s.scalars(select(HouseCode).where(HouseCode.house_id == house.id))}
    assert codes["A1CODE0001"].retired_at is not None and codes[new.code].retired_at is None
    s.expire(house)
    assert house.plate_code == new.code
    assert _events(s, house) == ["replated"]
    again = replate(s, house, None)
    assert again.code not in codes


def test_demolish_ends_residencies_and_keeps_a_tombstone(db_session: Session) -> None:
    s = db_session
    house = f.house(s, f.cell(s))
    residency = f.residency(s, f.person(s), house, start_date=date(2020, 5, 1))
    s.commit()
    assert demolish(s, house, None, date(2026, 11, 1), "旧改") == 1
    s.commit()
    s.refresh(residency)
    assert (residency.end_date, house.deleted_at is not None, house.version) == (date(2026, 11, 1), True, 2)
    assert _events(s, house) == ["demolished"]
    with pytest.raises(HistoryError):
        demolish(s, house, None, date(2026, 11, 2))


def test_split_makes_new_houses_and_retires_the_original(db_session: Session) -> None:
    s = db_session
    house = f.house(s, f.cell(s), room="301")
    s.commit()
    parts = split(s, house, [SplitPart("301A", 12.0), SplitPart("301B", 9.5)], None)
    s.commit()
    assert [(p.road, p.number, p.room, p.living_area, p.cell_id) for p in parts] == [
        (house.road, house.number, "301A", 12.0, house.cell_id), (house.road, house.number, "301B", 9.5, house.cell_id)]
    assert house.deleted_at is not None and _events(s, house) == ["split"]
    assert all(_events(s, p) == ["created"] for p in parts)


@pytest.mark.parametrize("rooms", [["A"], ["A", "A"], ["A", " "]])
def test_split_needs_two_distinct_rooms(db_session: Session, rooms: list[str]) -> None:
    house = f.house(db_session, f.cell(db_session))
    with pytest.raises(HistoryError) as error:
        split(db_session, house, [SplitPart(r) for r in rooms], None)
    assert error.value.code == "split.parts"


def test_split_refuses_while_someone_lives_there(db_session: Session) -> None:
    s = db_session
    house = f.house(s, f.cell(s))
    f.residency(s, f.person(s), house)
    with pytest.raises(HistoryError) as error:
        split(s, house, [SplitPart("A"), SplitPart("B")], None)
    assert error.value.code == "split.occupied"
    assert s.scalar(select(Residency.end_date)) is None


def test_console_split_and_demolish(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import csrf_token, login

    house = area.houses["A2"]
    login(client, "comm")
    token = csrf_token(client, f"/houses/{house.id}/history")
    occupied = client.post(f"/houses/{house.id}/split", data={"csrf_token": token, "s-rooms": "A 10\nB 8"})
    assert occupied.status_code == 409 and ("先为在住人员" in occupied.get_data(as_text=True))
    bad = client.post(f"/houses/{house.id}/split", data={"csrf_token": token, "s-rooms": "A ten\nB 8"})
    assert bad.status_code == 422
    gone = client.post(f"/houses/{house.id}/demolish", data={"csrf_token": token, "d-on": "2026-11-01"})
    assert gone.status_code == 302
    db_session.rollback()
    assert db_session.get(House, house.id).deleted_at is not None  # type: ignore[union-attr]
    assert db_session.scalar(select(Residency.end_date).where(Residency.house_id == house.id)) == date(2026, 11, 1)
