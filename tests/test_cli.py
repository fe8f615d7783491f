"""Command-line tasks: demo seed (first run only), users, extract import/export."""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
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


@pytest.mark.parametrize("days", ["100000000", "36501", "-5", "-1"])
def test_purge_tombstones_refuses_days_out_of_range(runner, days: str) -> None:  # type: ignore[no-untyped-def]
    """A clear usage error, not an OverflowError's traceback nor a silent purge of everything."""
    result = runner.invoke(args=["purge-tombstones", "--days", days])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "--days" in result.output and "0<=x<=36500" in result.output


def test_purge_tombstones_refuses_a_retention_setting_out_of_range(app, runner) -> None:  # type: ignore[no-untyped-def]
    app.config["TOMBSTONE_RETENTION_DAYS"] = 100000000
    result = runner.invoke(args=["purge-tombstones"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "TOMBSTONE_RETENTION_DAYS" in result.output and "0<=x<=36500" in result.output


@pytest.mark.parametrize("days", ["0", "36500"])
def test_purge_tombstones_accepts_days_in_range(runner, days: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["purge-tombstones", "--days", days])
    assert result.exit_code == 0, result.output
    assert "person: 0 purged" in result.output


def test_export_extract_to_a_missing_directory_is_a_clear_error(runner, area, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "nonexistent" / "x.csv"
    result = runner.invoke(args=["export-extract", "persons", str(out)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not FileNotFoundError
    assert "Error: cannot write" in result.output and str(out) in result.output
    assert not out.parent.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_export_extract_file_is_private_and_not_overwritten(runner, area, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The export holds full ID numbers: only its owner may read it, and an existing file is
    kept unless --force is given."""
    out = tmp_path / "persons.csv"
    old_umask = os.umask(0o022)
    try:
        first = runner.invoke(args=["export-extract", "persons", str(out)])
        assert first.exit_code == 0, first.output
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        exported = out.read_bytes()

        out.write_bytes(b"keep me")
        out.chmod(0o644)
        again = runner.invoke(args=["export-extract", "persons", str(out)])
        assert again.exit_code == 1, again.output
        assert "exists" in again.output and "--force" in again.output
        assert out.read_bytes() == b"keep me"

        forced = runner.invoke(args=["export-extract", "persons", str(out), "--force"])
        assert forced.exit_code == 0, forced.output
        assert "4 rows" in forced.output
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert out.read_bytes().count(b"\n") == exported.count(b"\n")
        assert [p.name for p in tmp_path.iterdir()] == ["persons.csv"]  # no temporary file left
    finally:
        os.umask(old_umask)


def test_add_reporter_checks_the_password_policy(runner, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """The same policy, and the same message, as create-user."""
    code = area.committees["A"].code
    weak = runner.invoke(args=["community", "add-reporter", "louzu9", "--committee", code, "--password", "1"])
    assert weak.exit_code == 1, weak.output
    assert "Use at least 10 characters." in weak.output and "密码至少需要 10 个字符。" in weak.output
    as_create_user = runner.invoke(args=["create-user", "louzu8", "--role", "reporter", "--committee", code,
                                         "--password", "1"])
    assert as_create_user.exit_code == 1
    assert weak.output.replace("louzu9", "") == as_create_user.output.replace("louzu8", "")
    db_session.rollback()
    assert db_session.scalar(select(User).where(User.username.in_(["louzu8", "louzu9"]))) is None
    strong = runner.invoke(args=["community", "add-reporter", "louzu9", "--committee", code,
                                 "--password", "s3cret-pass-louzu"])
    assert strong.exit_code == 0, strong.output
    db_session.rollback()
    assert db_session.scalar(select(User).where(User.username == "louzu9")) is not None
