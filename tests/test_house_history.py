"""A house's life: re-plated, split, demolished — each a new version and an event."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
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


# ---- a removed house (demolished, or split and so retired) refuses every further change


@pytest.mark.parametrize("action", ["split", "replate", "demolish"])
def test_a_demolished_house_refuses_every_change(db_session: Session, action: str) -> None:
    s = db_session
    house = f.house(s, f.cell(s))
    demolish(s, house, None, date(2026, 11, 1))
    with pytest.raises(HistoryError) as error:
        {"split": lambda: split(s, house, [SplitPart("A"), SplitPart("B")], None),
         "replate": lambda: replate(s, house, None),
         "demolish": lambda: demolish(s, house, None, date(2026, 11, 2))}[action]()
    assert error.value.code == "house.deleted"


def test_a_split_house_cannot_be_split_again(db_session: Session) -> None:
    s = db_session
    house = f.house(s, f.cell(s))
    split(s, house, [SplitPart("A"), SplitPart("B")], None)
    with pytest.raises(HistoryError) as error:
        split(s, house, [SplitPart("A"), SplitPart("B")], None)
    assert error.value.code == "house.deleted"
    assert len(s.scalars(select(House).where(House.deleted_at.is_(None), House.room.in_(["A", "B"]))).all()) == 2


def _live_rooms(s: Session, house: House) -> list[str | None]:
    return sorted(s.scalars(select(House.room).where(House.deleted_at.is_(None), House.road == house.road,
                                                      House.number == house.number, House.id != house.id)))


def test_console_refuses_a_second_split_and_changes_to_a_demolished_house(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import csrf_token, login

    s = db_session
    house = f.house(s, area.cells["A2"], road="分户路", number="1")
    s.commit()
    login(client, "comm")
    token = csrf_token(client, f"/houses/{house.id}/history")
    rooms = {"csrf_token": token, "s-rooms": "A 10\nB 8"}
    assert client.post(f"/houses/{house.id}/split", data=rooms).status_code == 302
    again = client.post(f"/houses/{house.id}/split", data=rooms)  # a double click
    assert again.status_code == 409 and "该房屋已注销" in again.get_data(as_text=True)
    english = client.post(f"/houses/{house.id}/split", data=rooms, headers={"Accept-Language": "en"})
    assert english.status_code == 409 and "This house no longer exists" in english.get_data(as_text=True)
    s.rollback()
    assert _live_rooms(s, house) == ["A", "B"]

    gone = area.houses["A2"]
    assert client.post(f"/houses/{gone.id}/demolish", data={"csrf_token": token, "d-on": "2026-11-01"}).status_code == 302
    for action, data in (("split", {"s-rooms": "A 10\nB 8"}), ("replate", {"r-reason": "x"})):
        refused = client.post(f"/houses/{gone.id}/{action}", data={"csrf_token": token, **data})
        assert refused.status_code == 409 and "该房屋已注销" in refused.get_data(as_text=True), action
    edit = client.get(f"/houses/{gone.id}/edit")
    assert edit.status_code == 409 and "该房屋已注销" in edit.get_data(as_text=True)
    assert client.post(f"/houses/{gone.id}/edit", data={"csrf_token": token, "road": "x"}).status_code == 409
    assert client.get(f"/houses/{gone.id}").status_code == 200  # its page and history stay readable
    assert client.get(f"/houses/{gone.id}/history").status_code == 200


@pytest.mark.parametrize("rooms, bad", [
    ("A -10\nB 8", "A -10"), ("A 10\nB 1e300", "B 1e300"), ("A nan\nB 8", "A nan"), ("A 10\nB inf", "B inf"),
    ("A" * 17 + " 10\nB 8", "A" * 17 + " 10"), ("A" * 40 + "\nB 8", "A" * 40)])
def test_console_split_checks_each_line(client, area, db_session, rooms: str, bad: str) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import csrf_token, login

    s = db_session
    house = f.house(s, area.cells["A2"], road="分户路", number="2")
    s.commit()
    login(client, "comm")
    token = csrf_token(client, f"/houses/{house.id}/history")
    refused = client.post(f"/houses/{house.id}/split", data={"csrf_token": token, "s-rooms": rooms})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f"“{bad}”" in page and ("居住面积" in page or "房间号" in page)
    s.rollback()
    assert _live_rooms(s, house) == [] and s.get(House, house.id).deleted_at is None  # type: ignore[union-attr]


def test_console_split_line_error_in_english(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import csrf_token, login

    house = f.house(db_session, area.cells["A2"], road="分户路", number="3")
    db_session.commit()
    login(client, "comm")
    token = csrf_token(client, f"/houses/{house.id}/history")
    refused = client.post(f"/houses/{house.id}/split", data={"csrf_token": token, "s-rooms": "A -10\nB 8"},
                          headers={"Accept-Language": "en"})
    assert refused.status_code == 422 and "“A -10”: the living area must be from 0 to 100000 m²" in refused.get_data(as_text=True)


def test_demolishing_closes_the_houses_open_tasks(db_session: Session) -> None:
    # They stayed open, fell overdue and were escalated to the committee.
    from webapp.models import Task
    from webapp.registry.tasks import create_task

    s = db_session
    house = f.house(s, f.cell(s))
    task = create_task(s, house, "moved_in", "301室搬来新住户")
    s.flush()
    demolish(s, house, None, date(2026, 11, 1))
    s.refresh(task)
    assert (task.status, task.outcome) == ("rejected", "房屋已拆除，无需处理 / the house was demolished")
    assert s.scalar(select(func.count()).select_from(Task).where(Task.status == "open")) == 0


# ---- a demolition is dated today or earlier: a future day ended its residencies on a day to
# come while the house was gone now


def test_a_demolition_cannot_be_dated_after_today(db_session: Session) -> None:
    from webapp.base.timeutil import local_today

    s = db_session
    house = f.house(s, f.cell(s))
    residency = f.residency(s, f.person(s), house, start_date=date(2020, 5, 1))
    with pytest.raises(HistoryError) as error:
        demolish(s, house, None, local_today() + timedelta(days=1))
    assert error.value.code == "demolish.future" and "晚于今天" in error.value.zh and "after today" in error.value.en
    assert house.deleted_at is None and residency.end_date is None
    assert demolish(s, house, None, local_today()) == 1  # today is fine


@pytest.mark.parametrize("language, message", [("zh", "拆除日期不能晚于今天"),
                                               ("en", "A demolition cannot be dated after today")])
def test_console_refuses_a_future_demolition_keeping_what_was_typed(client, area, db_session, language: str,
                                                                    message: str) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import csrf_token, login
    from webapp.base.timeutil import local_today

    house = area.houses["A2"]
    login(client, "comm")
    token = csrf_token(client, f"/houses/{house.id}/history")
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    refused = client.post(f"/houses/{house.id}/demolish", data={"csrf_token": token, "d-on": tomorrow, "d-reason": "旧改"},
                          headers={"Accept-Language": language})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and message in page
    assert f'value="{tomorrow}"' in page and 'value="旧改"' in page
    db_session.rollback()
    assert db_session.get(House, house.id).deleted_at is None  # type: ignore[union-attr]
    assert db_session.scalar(select(Residency.end_date).where(Residency.house_id == house.id)) is None


def test_demolishing_withdraws_the_houses_waiting_reviews(db_session: Session) -> None:
    # A pending review of a demolished house stayed in the lead's queue, on the phones and in
    # the committee's backlog, about residents of a house that no longer exists.
    from webapp.models import Review
    from webapp.registry.review import QueueFilters, queue
    from webapp.registry.scope import Scope

    s = db_session
    cell = f.cell(s)
    house, elsewhere = f.house(s, cell), f.house(s, cell)
    coordinator, committee = f.user(s, "coord", "coordinator"), f.user(s, "comm", "committee")
    staying = f.residency(s, f.person(s, name="甲"), house, start_date=date(2026, 10, 1))
    left = f.residency(s, f.person(s, name="乙"), house, start_date=date(2025, 1, 1), end_date=date(2026, 10, 1))
    approved = f.residency(s, f.person(s, name="丙"), house, start_date=date(2026, 9, 1))
    other = f.residency(s, f.person(s, name="丁"), elsewhere, start_date=date(2026, 10, 1))

    def review(residency: Residency, kind: str, status: str, reason: str | None = None) -> Review:
        made = Review(house_id=residency.house_id, cell_id=cell.id, residency_id=residency.id,
                      person_id=residency.person_id, kind=kind, status=status, reason=reason,
                      submitted_by_id=coordinator.id, changed_by_id=coordinator.id)
        s.add(made)
        return made

    waiting = [review(staying, "registration", "pending"), review(left, "move_out", "returned", "迁出日期不对")]
    kept = [review(approved, "registration", "approved"), review(other, "registration", "pending")]
    s.commit()
    demolish(s, house, committee.id, date(2026, 11, 1))
    s.commit()
    for r in waiting:
        s.refresh(r)
        assert (r.deleted_at is not None, r.changed_by_id, r.version) == (True, committee.id, 2), r.kind
    assert waiting[1].reason == "迁出日期不对"  # the lead's words stay with the return
    for r in kept:
        s.refresh(r)
        assert (r.deleted_at, r.version) == (None, 1)
    assert [r.id for r in s.scalars(queue(Scope("centre", None), QueueFilters()))] == [kept[1].id]
    detail = s.scalar(select(HouseEvent.detail).where(HouseEvent.house_id == house.id))
    assert detail["reviews_withdrawn"] == 2
    assert detail["reviews_withdrawn_reason"] == "房屋已拆除，无需审核 / the house was demolished"
