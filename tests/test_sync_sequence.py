"""The change counter (webapp/registry/sequence.py) and what a pull leaves on the device row (sync/pull.py).

One committed transaction gets one number for all its rows, taken at the very end and held
until commit; a pull reads without writing unless the device row has something new to keep.
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from webapp.registry.sequence import STAMPED_TABLES, _stamp_in_one, committed_seq
from tests import factories as f
from tests.statements import statements
from webapp.base.timeutil import utcnow
from webapp.models import Cell, ChangeCounter, Committee, Device, House, RecordVersion, User, Visit, cell_coordinator


def test_one_commit_is_one_number_across_tables(db_session: Session) -> None:
    s = db_session
    before = committed_seq(s)
    com = f.committee(s)
    cell = f.cell(s, com)
    house = f.house(s, cell)
    changed_at = house.changed_at
    s.commit()
    numbers = {s.scalar(select(m.seq).where(m.id == i))
               for m, i in ((Committee, com.id), (Cell, cell.id), (House, house.id))}
    assert numbers == {before + 1} and committed_seq(s) == before + 1
    # Stamping is bookkeeping: it leaves the record's own change time alone.
    assert s.scalar(select(House.changed_at).where(House.id == house.id)) == changed_at


def test_a_commit_without_synced_changes_takes_no_number(db_session: Session) -> None:
    s = db_session
    f.user(s, "nobody", "coordinator")
    s.commit()
    before = committed_seq(s)
    f.user(s, "somebody", "coordinator")
    s.commit()
    assert committed_seq(s) == before


def test_a_commit_stamps_only_the_tables_it_wrote(db_session: Session, engine: Engine) -> None:
    """A push of ten visits writes one synced table: its commit stamps (and logs) that one,
    not all fourteen (it did, a quarter of such a push's time)."""
    s = db_session
    house = f.house(s, f.cell(s))
    s.commit()
    before = committed_seq(s)
    s.add(Visit(house_id=house.id, visited_at=utcnow(), outcome="verified"))
    seen = statements(engine, s.commit)
    stamped = {t.name for t in STAMPED_TABLES if any(
        re.search(rf"UPDATE \"?{t.name}\"? SET .*seq", q) or f"{t.name} SET seq" in q for q in seen)}
    assert stamped == {"visit"}, seen
    assert not any("INSERT INTO record_version" in q for q in seen)  # no person, house or unit written
    assert committed_seq(s) == before + 1


def test_a_statement_that_does_not_name_its_table_stamps_every_table(db_session: Session) -> None:
    """A text statement may have written any table: everything unstamped is numbered."""
    s = db_session
    house = f.house(s, f.cell(s))
    s.commit()
    s.execute(text("UPDATE house SET note = 'by text', seq = NULL WHERE id = :id"), {"id": house.id.hex
              if s.get_bind().dialect.name == "sqlite" else house.id})
    s.commit()
    assert s.scalar(select(House.seq).where(House.id == house.id)) == committed_seq(s)


def test_a_savepoint_rolled_back_keeps_what_came_before_it_to_stamp(db_session: Session) -> None:
    """Rows written before a savepoint that fails (a race on a unique name, a dry run) are still
    numbered at commit: were they not, no pull would ever send them."""
    s = db_session
    house = f.house(s, f.cell(s))
    s.commit()
    house.note = "written before the savepoint"
    s.flush()
    with pytest.raises(RuntimeError), s.begin_nested():
        s.execute(update(House).where(House.id == house.id).values(note="undone"))
        raise RuntimeError("the savepoint fails")
    s.commit()
    assert s.scalar(select(House.seq).where(House.id == house.id)) == committed_seq(s)
    assert s.scalar(select(House.note).where(House.id == house.id)) == "written before the savepoint"
    # ... and kept in the change log (which copies the rows the commit is about to number).
    logged = s.scalars(select(RecordVersion.snapshot).where(RecordVersion.record_id == house.id)
                       .order_by(RecordVersion.version)).all()
    assert logged[-1]["note"] == "written before the savepoint"


def test_a_database_without_the_counter_row_starts_it(db_session: Session) -> None:
    s = db_session
    s.execute(delete(ChangeCounter))
    s.commit()
    house = f.house(s, f.cell(s))
    s.commit()
    assert committed_seq(s) == 1
    assert s.scalar(select(House.seq).where(House.id == house.id)) == 1


def test_the_number_is_held_until_commit(db_session: Session, engine: Engine, backend: str) -> None:
    """A second writer cannot take the next number while the first has not committed, so a
    pull reading up to the committed number never passes a change that commits late."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers from BEGIN IMMEDIATE: there is no second writer to hold off")
    s = db_session
    early, late = f.house(s, f.cell(s)), f.house(s, f.cell(s))
    s.commit()
    base = committed_seq(s)
    first = engine.connect()
    try:
        # The first writer changes a house and stamps it, as its commit hook does, then pauses.
        first.execute(update(House).where(House.id == late.id).values(note="late"))
        number = first.execute(_stamp_in_one(STAMPED_TABLES)).scalar_one()
        assert number == base + 1
        with Session(engine) as second:
            second.execute(text("SET LOCAL lock_timeout = '200ms'"))
            row = second.get(House, early.id)
            assert row is not None
            row.note = "early"
            with pytest.raises(OperationalError, match="lock timeout"):
                second.commit()
        s.rollback()
        assert committed_seq(s) == base  # a reader still sees only what is committed
        assert s.scalar(select(House.seq).where(House.id == late.id)) <= base
        first.commit()
    finally:
        first.close()
    s.rollback()
    assert committed_seq(s) == base + 1
    assert s.scalar(select(House.seq).where(House.id == late.id)) == base + 1


def _device(db_session: Session) -> Device:
    db_session.rollback()
    device = db_session.scalars(select(Device)).one()
    return device


def _pull(client: Any, phone: dict[str, str], cursor: str | None) -> dict[str, Any]:
    response = client.get("/api/sync/pull?protocol=1" + (f"&cursor={cursor}" if cursor else ""), headers=phone)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def phone(client, area):  # type: ignore[no-untyped-def]
    response = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def test_a_pull_records_itself_once_a_minute(client, phone, area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    first = _pull(client, phone, None)
    device = _device(db_session)
    pulled_at, cells = device.last_pull_at, device.cells
    assert pulled_at is not None and cells == [str(area.cells["A1"].id)]
    _pull(client, phone, first["cursor"])
    assert _device(db_session).last_pull_at == pulled_at  # read only: nothing new to keep
    # A minute on, the pull is noted again (the console's "last synced").
    db_session.execute(update(Device).values(last_pull_at=pulled_at - timedelta(minutes=2)))
    db_session.commit()
    _pull(client, phone, first["cursor"])
    assert _device(db_session).last_pull_at > pulled_at - timedelta(minutes=2)


def test_a_cell_taken_away_is_evicted_on_the_next_round(client, phone, area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    first = _pull(client, phone, None)
    a1, a2 = area.cells["A1"], area.cells["A2"]
    a1_houses = {h["id"] for h in first["changes"]["house"]}
    assert a1_houses
    s = db_session
    s.rollback()
    coord = area.users["coordinator"].id
    s.execute(delete(cell_coordinator).where(cell_coordinator.c.cell_id == a1.id))
    s.execute(cell_coordinator.insert().values(cell_id=a2.id, user_id=coord))
    s.commit()
    page = _pull(client, phone, first["cursor"])
    assert set(page["evict"]["house"]) == a1_houses
    assert {h["cell_id"] for h in page["changes"]["house"]} == {str(a2.id)}
    assert _device(s).cells == [str(a2.id)]
    again = _pull(client, phone, page["cursor"])
    assert again["evict"] == {}  # the new cells were kept: nothing left since


def _refused(client: Any, phone: dict[str, str], cursor: str) -> bool:
    response = client.get("/api/sync/pull", query_string={"protocol": "2", "cursor": cursor}, headers=phone)
    return response.status_code == 422 and response.get_json()["code"] == "cursor_invalid"


def test_a_cursor_naming_cells_the_phone_never_held_is_refused(client, phone, area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    """The cursor says which cells the phone holds (sync/pull.py): one claiming another cell
    would be answered with that cell's houses as evictions. It is sealed with the app's key and
    bound to the user: made, edited, or taken from another user's phone, it is refused."""
    from sync.pull import Cursor
    mine = Cursor.decode(_pull(client, phone, None)["cursor"], b"test-secret", area.users["coordinator"].id)
    assert mine.held == frozenset({area.cells["A1"].id})
    b1 = area.cells["B1"].id
    claims = Cursor(mine.base, mine.high, mine.table, held=frozenset({area.cells["A1"].id, b1}))
    assert _refused(client, phone, claims.encode(b"not-the-key", area.users["coordinator"].id, "coordinator"))
    assert _refused(client, phone, claims.encode(b"test-secret", area.users["centre"].id, "coordinator"))
    edited = Cursor(mine.base, mine.high, mine.table, held=mine.held).encode(b"test-secret", area.users["coordinator"].id,
                                                                             "coordinator")
    assert not _refused(client, phone, edited)
    assert _refused(client, phone, edited.replace(".", ".1", 1))  # another base, the seal kept
    committee = client.post("/api/devices", json={"username": "comm", "password": "pw", "label": "t"})
    theirs = _pull(client, {"Authorization": f"Bearer {committee.get_json()['token']}"}, None)["cursor"]
    assert _refused(client, phone, theirs)


def test_a_version_1_cursor_still_works_and_evicts_a_cell_taken_away(client, phone, area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    """A phone that last pulled before cursors said which cells it holds sends a version 1
    cursor (also mid-round): it is compared with the cells recorded on the device row."""
    first = _pull(client, phone, None)
    s = db_session
    a1_houses = {h["id"] for h in first["changes"]["house"]}
    s.rollback()
    s.execute(delete(cell_coordinator).where(cell_coordinator.c.cell_id == area.cells["A1"].id))
    s.execute(cell_coordinator.insert().values(cell_id=area.cells["A2"].id, user_id=area.users["coordinator"].id))
    s.commit()
    high = first["high_water"]
    for old in (f"1.{high}.{high}.13.0.", f"1.0.{high}.2.0."):  # between rounds, and mid-round
        s.execute(update(Device).values(cells=[str(area.cells["A1"].id)]))  # as that round left it
        s.commit()
        page = _pull(client, phone, old)
        assert set(page["evict"]["house"]) >= a1_houses and page["evict"]["cell"] == [str(area.cells["A1"].id)]
        assert str(area.houses["A2"].id) in {h["id"] for h in page["changes"]["house"]}
        assert page["cursor"].startswith("3.")


def test_a_phone_whose_user_no_longer_sees_every_cell_starts_again(client, area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    """The centre's login given a committee's role: its phone held the district. Evicting all
    but the committee's cells is most of the district: the cursor is refused, and the phone's
    snapshot starts its store again."""
    registered = client.post("/api/devices", json={"username": "centre", "password": "pw", "label": "t"})
    centre = {"Authorization": f"Bearer {registered.get_json()['token']}"}
    first = _pull(client, centre, None)
    assert str(area.houses["B1"].id) in {h["id"] for h in first["changes"]["house"]}
    s = db_session
    s.rollback()
    s.execute(update(User).where(User.username == "centre").values(role="committee",
                                                                  committee_id=area.committees["A"].id))
    s.commit()
    assert _refused(client, centre, first["cursor"])
    again = _pull(client, centre, None)
    assert again["snapshot"] and str(area.houses["B1"].id) not in {h["id"] for h in again["changes"]["house"]}



def test_a_phone_whose_user_was_given_another_role_starts_again(client, area, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    """A grid lead's phone holds residents' numbers masked. Made a coordinator of the same
    cell, the lead's next pulls sent only records that changed: the numbers stayed masked on
    the phone for good. The cursor says which role the rows were masked for; another role's
    phone starts again from a snapshot, in clear."""
    registered = client.post("/api/devices", json={"username": "lead", "password": "pw", "label": "t"})
    lead = {"Authorization": f"Bearer {registered.get_json()['token']}"}
    first = _pull(client, lead, None)
    resident = next(p for p in first["changes"]["person"] if p["id"] == str(area.persons["A1"].id))
    assert "id_number" not in resident and resident["id_number_masked"]
    s = db_session
    s.rollback()
    s.execute(update(Cell).where(Cell.grid_lead_id == area.users["grid_lead"].id).values(grid_lead_id=None))
    s.execute(update(User).where(User.username == "lead").values(role="coordinator"))
    s.execute(cell_coordinator.insert().values(cell_id=area.cells["A1"].id, user_id=area.users["grid_lead"].id))
    s.commit()
    assert _refused(client, lead, first["cursor"])
    again = _pull(client, lead, None)
    resident = next(p for p in again["changes"]["person"] if p["id"] == str(area.persons["A1"].id))
    assert again["snapshot"] and resident["id_number"] == area.persons["A1"].id_number


def test_a_version_2_cursor_is_still_taken(client, phone, area) -> None:  # type: ignore[no-untyped-def]
    """Phones that last pulled before the role travelled in the cursor hold a version 2 one."""
    from sync.pull import Cursor, _cells_text, _mac

    mine = Cursor.decode(_pull(client, phone, None)["cursor"], b"test-secret", area.users["coordinator"].id)
    assert mine.role == "coordinator"
    body = f"2.{mine.high}.{mine.high}.13.0..{_cells_text(mine.held)}"  # the round done, as version 2 wrote it
    old = f"{body}.{_mac(b'test-secret', area.users['coordinator'].id, body)}"
    page = _pull(client, phone, old)
    assert not page["snapshot"] and page["cursor"].startswith("3.")

def test_a_pull_does_not_wait_for_a_writer_on_sqlite(database_url, area, backend, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    """A page with nothing to record is a read: under WAL it neither waits for nor holds up
    the one SQLite writer (a pull that wrote the device row on every page did both)."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers")
    from tests.conftest import _config_for
    from webapp.app import create_app
    from webapp.extensions import db

    app = create_app(_config_for(database_url, SQLITE_BUSY_TIMEOUT_MS=100))
    client = app.test_client()
    token = client.post("/api/devices", json={"username": "coord", "password": "pw"}).get_json()["token"]
    phone = {"Authorization": f"Bearer {token}"}
    first = _pull(client, phone, None)
    with engine.connect() as writer:  # another worker in the middle of a push
        writer.exec_driver_sql("UPDATE house SET note = 'busy'")  # holds the write lock until rollback
        page = _pull(client, phone, first["cursor"])
        assert page["more"] is False
        writer.rollback()
    with app.app_context():
        db.engine.dispose()
