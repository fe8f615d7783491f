"""The migration `l1_tip_becomes_task` (issue 20) on both backends: down to the table `tip` and
up again, with rows in every place that stores the name — nothing lost either way — and the
schema after it still exactly the models'."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import BACKENDS, _config_for
from webapp.models import (
    AuditEntry, Conflict, CoverageSnapshot, Cycle, Device, RateCounter, RecordAlias, SyncMutation,
)
from webapp.registry.tasks import create_task

pytestmark = pytest.mark.slow  # three full migrations of an empty database per backend

BEFORE = "k2_sync_protocol2"  # the revision before l1_tip_becomes_task


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database of its own (the session's is already at the head)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('migration') / 'm.sqlite3'}"
        return
    server = make_url(request.getfixturevalue("pg_url"))
    name = f"gw_migration_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def _migrate(url: str, revision: str, down: bool = False) -> None:
    from flask_migrate import downgrade, upgrade

    from webapp.app import create_app
    from webapp.extensions import db

    app = create_app(_config_for(url))
    with app.app_context():
        (downgrade if down else upgrade)(revision=revision)
        db.engine.dispose()


def _names(engine: sa.Engine) -> dict[str, object]:
    with engine.connect() as conn:
        one = lambda sql: conn.execute(sa.text(sql)).scalar()  # noqa: E731
        return {
            "tables": sorted(t for t in sa.inspect(conn).get_table_names() if t in ("tip", "task")),
            "indexes": sorted(i["name"] for t in ("tip", "task") if sa.inspect(conn).has_table(t)
                              for i in sa.inspect(conn).get_indexes(t)),
            "foreign_keys": sorted(fk["name"] or "" for t in ("tip", "task") if sa.inspect(conn).has_table(t)
                                   for fk in sa.inspect(conn).get_foreign_keys(t)),
            "mutation": one("SELECT record_type FROM sync_mutation"),
            "conflict": one("SELECT record_type || ' ' || kind FROM conflict"),
            "alias": one("SELECT record_type FROM record_alias"),
            "audit": one("SELECT object_type || ' ' || action FROM audit_log WHERE object_type IN ('tip', 'task')"),
            "rate": one("SELECT key FROM rate_counter"),
            "figures": one("SELECT figures FROM coverage_snapshot"),
            "detail": one("SELECT detail FROM sync_mutation"),
        }


def test_tip_becomes_task_and_back(fresh_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from webapp.models import Base

    _migrate(fresh_url, "heads")
    engine = sa.create_engine(fresh_url)
    with Session(engine) as s:
        cell = f.cell(s)
        house = f.house(s, cell)
        coord = f.user(s, f"m_{uuid.uuid4().hex[:6]}", "coordinator")
        task = create_task(s, house, "moved_in", "迁移前的待办")
        device = Device(user_id=coord.id, token_hash=uuid.uuid4().hex)
        s.add(device)
        s.flush()
        s.add(SyncMutation(id=uuid.uuid4(), device_id=device.id, device_seq=1, record_type="task", record_id=task.id,
                           op="update", outcome="rejected",
                           detail={"errors": [{"field": "result", "code": "task.result"}]}))
        s.add(Conflict(kind="task.visit_house", record_type="task", record_id=task.id, house_id=house.id))
        s.add(RecordAlias(alias_id=uuid.uuid4(), canonical_id=task.id, record_type="task"))
        s.add(AuditEntry(action="close_tip", object_type="tip", object_id=str(task.id)))  # written before the rename
        s.add(RateCounter(key="task:ip:abc", window_start=datetime(2026, 12, 4, tzinfo=timezone.utc), count=2))
        cycle = Cycle(name="2026-11", starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 30))
        s.add(cycle)
        s.flush()
        s.add(CoverageSnapshot(cycle_id=cycle.id, cell_id=cell.id, committee_id=cell.committee_id,
                               figures={"open_tasks": 3, "cells": [{"open_tasks": 1, "houses": 4}]}))
        s.commit()
        task_id = task.id
    now = _names(engine)
    assert now["tables"] == ["task"] and all("tip" not in n for n in now["indexes"] + now["foreign_keys"]), now  # type: ignore[operator]

    engine.dispose()
    _migrate(fresh_url, BEFORE, down=True)
    old = _names(engine)
    assert old["tables"] == ["tip"], old
    assert {"ix_tip_open", "ix_tip_open_due", "uq_tip_origin_key"} <= set(old["indexes"]), old  # type: ignore[arg-type]
    assert all("task" not in n for n in old["indexes"] + old["foreign_keys"]), old  # type: ignore[operator]
    assert (old["mutation"], old["conflict"], old["alias"], old["audit"], old["rate"]) == (
        "tip", "tip tip.visit_house", "tip", "tip close_tip", "tip:ip:abc"), old  # the audit row as written
    assert "tip.result" in str(old["detail"]) and "open_tips" in str(old["figures"]), old
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT text FROM tip")).scalar() == "迁移前的待办"

    engine.dispose()
    _migrate(fresh_url, "heads")  # through l1_tip_becomes_task, and what came after it
    again = _names(engine)
    assert again == now, (again, now)
    with Session(engine) as s:
        from webapp.models import Task

        assert s.get(Task, task_id).text == "迁移前的待办"  # type: ignore[union-attr]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    # The audit log was never touched: append-only evidence keeps its names (read as today's).
    assert now["audit"] == again["audit"] == "tip close_tip"
    with engine.connect() as conn, pytest.raises(sa.exc.DatabaseError):
        conn.execute(sa.text("UPDATE audit_log SET action = 'x'"))
    engine.dispose()
