"""sync/bulk.py: a push's rows written on PostgreSQL (a few in one multi-row INSERT, more by
COPY: both ways are tested) and on SQLite (the driver's own executemany) read back exactly as
the same rows written by SQLAlchemy's INSERT (defaults, JSON, times, awkward text), a duplicate key is an IntegrityError the push's
savepoint recovers from, and written synced rows are stamped."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import sync.bulk
from sync.bulk import insert_rows, update_rows
from webapp.models import Conflict, Person

AWKWARD = "王\t小明\n\\N \"引号\" 'x' 😀 \\ end"
SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture(autouse=True, params=["values", "copy"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A few rows go in one INSERT, more by COPY: every test here runs both ways."""
    if request.param == "copy":
        monkeypatch.setattr(sync.bulk, "SMALL", 0)
    return str(request.param)


def _conflict(**kw: Any) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "kind": "field", "record_type": "person", "record_id": uuid.uuid4(), **kw}


def _read(s: Session, table: Any, ids: list[uuid.UUID], skip: set[str]) -> list[dict[str, Any]]:
    rows = s.execute(select(table).where(table.c.id.in_(ids))).mappings()
    by_id = {r["id"]: {k: v for k, v in r.items() if k not in skip} for r in rows}
    return [by_id[i] for i in ids]


@pytest.mark.parametrize("shape", ["full", "sparse"])
def test_copied_rows_read_back_as_inserted_rows(db_session: Session, shape: str) -> None:
    s = db_session
    given: dict[str, Any] = {} if shape == "sparse" else {
        "detail": {"errors": [{"zh": AWKWARD, "en": "a\nb"}], "n": 1.5, "none": None},
        "base_values": {"name": AWKWARD, "list": [1, "二", None]},
        "created_at": datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=SHANGHAI),
        "resolution": None,
    }
    copied = [_conflict(**given) for _ in range(3)]
    inserted = [_conflict(**given) for _ in range(3)]
    insert_rows(s, Conflict.__table__, copied)
    s.execute(insert(Conflict.__table__), inserted)
    s.commit()
    skip = {"id", "record_id"} | ({"created_at"} if shape == "sparse" else set())
    got = _read(s, Conflict.__table__, [r["id"] for r in copied], skip)
    assert got == _read(s, Conflict.__table__, [r["id"] for r in inserted], skip)
    if shape == "sparse":  # the Python-side defaults were applied, one per row
        assert got[0]["detail"] == {} and got[0]["resolution"] is None
        created = s.scalars(select(Conflict.created_at).where(Conflict.id.in_([r["id"] for r in copied]))).all()
        assert all(c is not None and c.tzinfo is not None for c in created)
    else:
        assert got[0]["created_at"] == datetime(2026, 11, 27, 1, 30, 15, 123456, tzinfo=timezone.utc)


def test_copied_synced_rows_are_stamped_at_commit(db_session: Session) -> None:
    s = db_session
    pid = uuid.uuid4()
    insert_rows(s, Person.__table__, [{"id": pid, "name": AWKWARD, "birth_date": date(1990, 2, 28),
                                       "id_number": None}])
    s.commit()
    person = s.get(Person, pid)
    assert person is not None and person.seq is not None and person.version == 1
    assert person.name == AWKWARD and person.category == "migrant" and person.birth_date == date(1990, 2, 28)


def test_a_duplicate_key_is_an_integrity_error_and_the_savepoint_recovers(db_session: Session) -> None:
    s = db_session
    first = _conflict()
    insert_rows(s, Conflict.__table__, [first])
    with pytest.raises(IntegrityError), s.begin_nested():
        insert_rows(s, Conflict.__table__, [_conflict(), {**_conflict(), "id": first["id"]}])
    after = _conflict()
    insert_rows(s, Conflict.__table__, [after])
    s.commit()
    ids = set(s.scalars(select(Conflict.id)))
    assert ids == {first["id"], after["id"]}


def test_updated_rows_read_back_as_updated_one_by_one(db_session: Session, backend: str) -> None:
    """The same changes through update_rows (one statement from arrays on PostgreSQL) and
    through a Core UPDATE per row: the same values, versions and unstamped-then-stamped seq;
    a row whose version moved meanwhile is left alone (the version is part of the match)."""
    s = db_session
    people = [uuid.uuid4() for _ in range(4)]
    insert_rows(s, Person.__table__, [{"id": p, "name": f"人{i}", "phone": None} for i, p in enumerate(people)])
    s.commit()
    seq_before = s.scalar(select(Person.seq).where(Person.id == people[0]))
    when = datetime(2026, 11, 27, 9, 0, 0, 654321, tzinfo=SHANGHAI)
    rows = [{"_id": p, "_expected": 1, "phone": f"1390000000{i}", "name": AWKWARD, "changed_at": when,
             "birth_date": date(1990, 1, i + 1)} for i, p in enumerate(people[:2])]
    rows.append({**rows[0], "_id": people[2], "_expected": 7})  # a stale version: no match
    sent: list[str] = []
    listen = (s.get_bind(), "before_cursor_execute", lambda *a: sent.append(a[2]))
    event.listen(*listen)
    try:
        update_rows(s, Person.__table__, frozenset({"phone", "name", "changed_at", "birth_date"}), rows)
    finally:
        event.remove(*listen)
    if backend == "postgresql":  # one statement for all the rows
        assert len(sent) == 1 and "unnest" in sent[0]
    one_by_one = {**rows[1], "_id": people[3]}
    s.execute(update(Person.__table__).where(Person.id == one_by_one["_id"]).values(
        phone=one_by_one["phone"], name=one_by_one["name"], changed_at=when, birth_date=one_by_one["birth_date"],
        version=Person.version + 1))
    s.commit()
    got = {p.id: p for p in s.scalars(select(Person).where(Person.id.in_(people)))}
    for pid, phone in ((people[0], "13900000000"), (people[1], "13900000001")):
        p = got[pid]
        assert (p.phone, p.name, p.version, p.changed_at) == (phone, AWKWARD, 2, when.astimezone(timezone.utc))
        assert p.seq is not None and p.seq > (seq_before or 0)  # set NULL by the update, stamped at commit
    assert (got[people[2]].version, got[people[2]].phone) == (1, None)
    same = ("phone", "name", "version", "changed_at", "birth_date")
    assert [getattr(got[people[1]], c) for c in same] == [getattr(got[people[3]], c) for c in same]
