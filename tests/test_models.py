"""What the database itself holds: constraints, zones, tombstones, the append-only audit."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from tests import factories as f
from webapp.models import AuditEntry, Person, Residency, Review, Visit
from webapp.registry.retention import purge
from webapp.base.timeutil import local_day_bounds_utc, local_today, local_week_start, utcnow


def test_one_live_person_per_id_number(db_session: Session) -> None:
    first = f.person(db_session, id_number="11010519491231002X")
    db_session.commit()
    with pytest.raises(IntegrityError):
        f.person(db_session, name="李四", id_number="11010519491231002X")
    db_session.rollback()
    # A tombstoned person no longer holds the number: it may be recorded again.
    first.tombstone(None)
    db_session.commit()
    again = f.person(db_session, name="李四", id_number="11010519491231002X")
    db_session.commit()
    assert again.id != first.id


def test_at_most_one_open_residency(db_session: Session) -> None:
    cell = f.cell(db_session)
    h1, h2 = f.house(db_session, cell), f.house(db_session, cell)
    person = f.person(db_session)
    old = f.residency(db_session, person, h1)
    db_session.commit()
    with pytest.raises(IntegrityError):
        f.residency(db_session, person, h2)
    db_session.rollback()
    old.end_date = date(2025, 6, 30)
    f.residency(db_session, person, h2, start_date=date(2025, 7, 1))
    db_session.commit()
    assert {r.is_open for r in db_session.get(Person, person.id).residencies} == {True, False}  # type: ignore[union-attr]


def test_times_come_back_aware_utc(db_session: Session) -> None:
    cell = f.cell(db_session)
    house = f.house(db_session, cell)
    shanghai_noon = datetime(2026, 11, 26, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    visit = Visit(house_id=house.id, user_id=None, visited_at=shanghai_noon, outcome="verified")
    db_session.add(visit)
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(Visit, visit.id)
    assert stored is not None
    assert stored.visited_at.tzinfo is not None and stored.visited_at.utcoffset() == timedelta(0)
    assert stored.visited_at == shanghai_noon
    assert stored.visited_at.hour == 4


def test_naive_times_are_refused(db_session: Session) -> None:
    house = f.house(db_session, f.cell(db_session))
    db_session.add(Visit(house_id=house.id, visited_at=datetime(2026, 1, 1), outcome="verified"))
    with pytest.raises(StatementError, match="naive datetime"):
        db_session.flush()
    db_session.rollback()


def test_local_days_are_shanghai_days() -> None:
    # 23:30 UTC on the 25th is already the 26th in Shanghai.
    late = datetime(2026, 11, 25, 23, 30, tzinfo=timezone.utc)
    assert local_today(now=late) == date(2026, 11, 26)
    assert local_week_start(now=late) == date(2026, 11, 23)  # a Monday
    start, end = local_day_bounds_utc(date(2026, 11, 26))
    assert (start.hour, start.day, end - start) == (16, 25, timedelta(days=1))


def test_audit_log_is_append_only(db_session: Session) -> None:
    db_session.add(AuditEntry(action="login", detail={}))
    db_session.commit()
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            db_session.execute(text(statement))
        db_session.rollback()


def test_purge_keeps_id_and_version_only(db_session: Session) -> None:
    cell = f.cell(db_session)
    house = f.house(db_session, cell)
    gone = f.person(db_session, id_number="11010519491231002X", phone="13812345678")
    kept = f.person(db_session, name="留", id_number="440524188001010014")
    stay = f.residency(db_session, gone, house)
    db_session.flush()
    reviews = [Review(house_id=house.id, cell_id=cell.id, residency_id=stay.id, person_id=p.id, person_name=p.name,
                      kind="move_out", status="pending") for p in (gone, kept)]
    reviews[1].kind = "registration"  # one review per residency and kind
    db_session.add_all(reviews)
    db_session.commit()
    gone.tombstone(None)
    db_session.commit()
    version = gone.version
    # Not yet past retention: nothing is purged.
    assert purge(db_session, before=utcnow() - timedelta(days=1))["person"] == 0
    assert purge(db_session, before=utcnow() + timedelta(seconds=1))["person"] == 1
    db_session.commit()
    db_session.expire_all()
    row = db_session.get(Person, gone.id)
    assert row is not None and row.purged_at is not None and row.version == version + 1
    assert (row.name, row.id_number, row.id_rev, row.phone, row.birth_date) == (None, None, None, None, None)
    assert db_session.get(Person, kept.id).name == "留"  # type: ignore[union-attr]
    # The reviews' copies of the name go with the person's own, and phones learn it (a new version).
    names = {r.person_id: (r.person_name, r.version) for r in db_session.scalars(select(Review))}
    assert names == {gone.id: (None, 2), kept.id: ("留", 1)}
    assert db_session.query(Residency).count() == 1


def test_version_counts_changes(db_session: Session) -> None:
    person = f.person(db_session)
    db_session.commit()
    assert person.version == 1
    person.name = "李四"
    db_session.commit()
    assert person.version == 2


def test_migrations_match_the_models(app) -> None:  # type: ignore[no-untyped-def]
    """The committed migrations build exactly the schema the models describe (both backends)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from webapp.extensions import db
    from webapp.models import Base

    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
