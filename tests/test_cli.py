"""Command-line tasks: demo seed (first run only), users, extract import/export."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from webapp.models import House, Person, User


def test_seed_demo_runs_once(runner, db_session) -> None:  # type: ignore[no-untyped-def]
    first = runner.invoke(args=["seed-demo", "--scale", "0.05", "--if-empty"])
    assert first.exit_code == 0, first.output
    db_session.rollback()
    houses = db_session.scalar(select(func.count()).select_from(House))
    assert houses > 0
    second = runner.invoke(args=["seed-demo", "--scale", "0.05", "--if-empty"])
    assert second.exit_code == 0 and "skipped" in second.output
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(House)) == houses
    logins = runner.invoke(args=["demo-logins"])
    assert "centre" in logins.output and "xg01" in logins.output


def test_create_user(runner, db_session) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["create-user", "admin", "--role", "centre"], input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    db_session.rollback()
    user = db_session.scalar(select(User).where(User.username == "admin"))
    assert user is not None and user.role == "centre" and user.password_hash.startswith("pbkdf2")


def test_export_then_import_round_trip(runner, area, tmp_path: Path, db_session) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "persons.xlsx"
    result = runner.invoke(args=["export-extract", "persons", str(out)])
    assert result.exit_code == 0 and "4 rows" in result.output
    again = runner.invoke(args=["import-extract", "--persons", str(out), "--lang", "en"])
    assert again.exit_code == 0, again.output
    assert "Import complete" in again.output and "0 new, 0 changed, 4 unchanged" in again.output
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Person)) == 4


def test_import_refuses_bad_file(runner, area, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "p.csv"
    bad.write_text("证件号码,姓名\n110105194912310021,坏\n", encoding="utf-8")
    result = runner.invoke(args=["import-extract", "--persons", str(bad)])
    assert result.exit_code == 1 and "第2行" in result.output
