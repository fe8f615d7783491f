"""`flask cells import/export/assign` and `flask cycle close` end to end."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from webapp.models import AuditEntry, Cell, Cycle, House
from webapp.models.coverage import CoverageSnapshot
from webapp.base.timeutil import local_today

D = 0.002


def square(x: float, y: float) -> list[list[float]]:
    return [[x, y], [x + D, y], [x + D, y + D], [x, y + D], [x, y]]


def collection(*cells: tuple[str, float]) -> dict:  # type: ignore[type-arg]
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [square(x, 31.0)]},
         "properties": {"code": code, "name": code, "committee_code": "K", "committee_name": "居委K"}}
        for code, x in cells]}


def test_import_assign_export(runner, db_session: Session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    house = f.house(s, None, lon=121.2 + D / 2, lat=31.0 + D / 2)
    s.commit()
    path = tmp_path / "cells.geojson"
    path.write_text(json.dumps(collection(("A", 121.2), ("B", 121.2 + D))), encoding="utf-8")

    dry = runner.invoke(args=["cells", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "新建 created: 2" in dry.output and "dry run" in dry.output
    s.rollback()
    assert s.scalars(select(Cell)).all() == []

    done = runner.invoke(args=["cells", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert "移动 moved: 1" in done.output and "→ A" in done.output
    s.rollback()
    assert s.get(House, house.id).cell.code == "A"  # type: ignore[union-attr]
    assert {a.action for a in s.scalars(select(AuditEntry))} >= {"cells.import", "cells.assign"}

    out = tmp_path / "out.geojson"
    exported = runner.invoke(args=["cells", "export", str(out)])
    assert exported.exit_code == 0, exported.output
    assert [feat["id"] for feat in json.loads(out.read_text(encoding="utf-8"))["features"]] == ["A", "B"]

    again = runner.invoke(args=["cells", "assign"])
    assert again.exit_code == 0 and "移动 moved: 0" in again.output


def test_import_with_errors_fails_and_writes_nothing(runner, db_session: Session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(collection(("A", 121.2), ("B", 121.2 + D / 2))), encoding="utf-8")
    result = runner.invoke(args=["cells", "import", str(path)])
    assert result.exit_code != 0
    assert "重叠" in result.output and "Overlaps cell" in result.output and "nothing imported" in result.output
    db_session.rollback()
    assert db_session.scalars(select(Cell)).all() == []


def test_a_running_cycle_is_not_closed_without_early(runner, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    # Closed with weeks to run, its coverage and grades froze and later visits never counted.
    today = local_today()
    db_session.add(Cycle(name="now", kind="month", starts_on=today.replace(day=1), ends_on=today))
    db_session.commit()
    refused = runner.invoke(args=["cycle", "close", "now"])
    assert refused.exit_code != 0 and "--early" in refused.output and "Traceback" not in refused.output
    db_session.rollback()
    assert db_session.scalar(select(Cycle.closed_at).where(Cycle.name == "now")) is None
    assert runner.invoke(args=["cycle", "close", "now", "--early"]).exit_code == 0
    db_session.rollback()
    assert db_session.scalar(select(Cycle.closed_at).where(Cycle.name == "now")) is not None


def test_cycle_close(runner, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    cell = f.cell(s, code="A")
    f.house(s, cell)
    s.add(Cycle(name="2026-10", kind="month", starts_on=date(2026, 10, 1), ends_on=date(2026, 10, 31)))
    s.commit()
    result = runner.invoke(args=["cycle", "close", "2026-10"])
    assert result.exit_code == 0, result.output
    assert "0/1" in result.output
    s.rollback()
    assert len(s.scalars(select(CoverageSnapshot)).all()) == 1
    assert runner.invoke(args=["cycle", "close", "2026-10"]).exit_code != 0
    assert runner.invoke(args=["cycle", "close", "nope"]).exit_code != 0
    shown = runner.invoke(args=["cycle", "coverage", "2026-10"])
    assert shown.exit_code == 0 and "closed" in shown.output


def test_export_to_a_missing_directory_is_a_clear_error(runner, db_session: Session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "nonexistent" / "x.geojson"
    result = runner.invoke(args=["cells", "export", str(out)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not FileNotFoundError
    assert "cannot write" in result.output and str(out) in result.output
