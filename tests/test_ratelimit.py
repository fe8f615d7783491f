"""Rate limits counted in the database: limits, window roll-over, pruning, shared by apps."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import _config_for, csrf_token
from tests.plating import give_plate
from webapp.models import RateCounter
from webapp.registry.ratelimit import KEEP, hit, prune, window_start

T0 = datetime(2026, 11, 26, 10, 0, 0, tzinfo=timezone.utc)  # on an hour boundary


def test_window_start_is_aligned_for_every_worker() -> None:
    assert window_start(T0 + timedelta(minutes=59, seconds=59), 3600) == T0
    assert window_start(T0 + timedelta(hours=1), 3600) == T0 + timedelta(hours=1)
    assert window_start(T0 + timedelta(seconds=61), 60) == T0 + timedelta(minutes=1)


def test_limit_then_refusal_with_retry_after(db_session: Session) -> None:
    now = T0 + timedelta(minutes=15)
    decisions = [hit(db_session, "k", 3, 3600, now=now) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, True]
    assert [d.remaining for d in decisions] == [2, 1, 0]
    refused = hit(db_session, "k", 3, 3600, now=now)
    assert not refused.allowed and refused.remaining == 0
    assert refused.retry_after == 45 * 60  # until the window ends
    # Other keys keep their own budget.
    assert hit(db_session, "other", 3, 3600, now=now).allowed


def test_window_rolls_over(db_session: Session) -> None:
    for _ in range(2):
        hit(db_session, "k", 2, 60, now=T0 + timedelta(seconds=10))
    assert not hit(db_session, "k", 2, 60, now=T0 + timedelta(seconds=59)).allowed
    later = hit(db_session, "k", 2, 60, now=T0 + timedelta(seconds=60))
    assert later.allowed and later.remaining == 1
    assert hit(db_session, "k", 2, 60, now=T0 + timedelta(seconds=61)).retry_after == 0


def test_retry_after_is_at_least_one_second(db_session: Session) -> None:
    almost = T0 + timedelta(seconds=59, milliseconds=900)
    hit(db_session, "k", 1, 60, now=almost)
    assert hit(db_session, "k", 1, 60, now=almost).retry_after == 1


def test_old_windows_are_pruned(db_session: Session) -> None:
    hit(db_session, "old", 5, 3600, now=T0)
    hit(db_session, "recent", 5, 3600, now=T0 + KEEP - timedelta(hours=1))
    db_session.commit()
    # A key's first hit in a new window prunes everything older than KEEP.
    hit(db_session, "new", 5, 3600, now=T0 + KEEP + timedelta(minutes=1))
    db_session.commit()
    keys = set(db_session.scalars(select(RateCounter.key)))
    assert keys == {"recent", "new"}
    assert prune(db_session, now=T0 + 3 * KEEP) == 2


def test_bad_arguments_are_refused(db_session: Session) -> None:
    with pytest.raises(ValueError):
        hit(db_session, "k", 0, 60)
    with pytest.raises(ValueError):
        hit(db_session, "k", 1, int(KEEP.total_seconds()) + 1)
    with pytest.raises(ValueError):
        hit(db_session, "x" * 121, 1, 60)


def test_two_sessions_share_one_count(engine, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    """Two workers are two connections: each sees the other's hits once committed."""
    with Session(engine) as other:
        assert hit(db_session, "k", 2, 3600, now=T0).remaining == 1
        db_session.commit()
        assert hit(other, "k", 2, 3600, now=T0).remaining == 0
        other.commit()
        assert not hit(db_session, "k", 2, 3600, now=T0).allowed
        db_session.commit()
    assert db_session.scalar(select(func.sum(RateCounter.count))) == 3


def test_two_app_instances_share_the_task_limits(database_url, engine, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """Two create_app on one database (two workers, or two servers) count against one limit."""
    from webapp.app import create_app
    from webapp.extensions import db

    apps = [create_app(_config_for(database_url, TASK_LIMIT_PER_PLATE=3)) for _ in range(2)]
    clients = [a.test_client() for a in apps]
    url = f"/h/{give_plate(db_session, area.houses['A1'])}"
    statuses = []
    for i in range(5):
        client = clients[i % 2]
        token = csrf_token(client, url)
        response = client.post(url, data={"csrf_token": token, "kind": "moved_in", "text": f"#{i}"})
        statuses.append(response.status_code)
    assert statuses == [303, 303, 303, 429, 429]
    assert int(response.headers["Retry-After"]) >= 1
    page = response.get_data(as_text=True)
    assert "提交过于频繁" in page and "Too many reports" in page
    for a in apps:
        with a.app_context():
            db.engine.dispose()
