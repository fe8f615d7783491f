"""Backup and restore of the registry database (no Flask): `scripts/backup.sh`.

SQLite: the online backup API (sqlite3.Connection.backup) copies a consistent snapshot page
by page while the app keeps serving; a plain file copy of a WAL database could miss
committed pages still in the -wal file. PostgreSQL: pg_dump's custom format (consistent,
compressed), restored by pg_restore --clean. Restore replaces the whole database: stop the
app servers first. The audit log is in the backup like every table (kept ≥ 3 years).
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url


def _pg_tool(name: str) -> str:
    """The newest installed client: pg_dump must be at least the server's version."""
    for tool_dir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(tool_dir, name)):
            return os.path.join(tool_dir, name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found (install postgresql-client)")
    return found


def _libpq(url: str) -> str:
    """postgresql+psycopg://… → postgresql://… for pg_dump/pg_restore."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be backed up")
    return database


def backup(url: str, dest: str | Path) -> Path:
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url))
        target = sqlite3.connect(dest)
        try:
            with target:
                source.backup(target, pages=1024)  # in steps, so writers are never held up long
            if target.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise RuntimeError("the backup copy failed its integrity check")
        finally:
            target.close()
            source.close()
    elif url.startswith("postgresql"):
        subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(dest), _libpq(url)],
                       check=True, capture_output=True)
    else:
        raise ValueError(f"unsupported database: {url}")
    return dest


def restore(url: str, source: str | Path) -> None:
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(source)
    if url.startswith("sqlite"):
        backup_db = sqlite3.connect(source)
        live = sqlite3.connect(_sqlite_path(url))
        try:
            with live:
                backup_db.backup(live)
        finally:
            live.close()
            backup_db.close()
    elif url.startswith("postgresql"):
        subprocess.run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                        "--dbname", _libpq(url), str(source)], check=True, capture_output=True)
        # A restore leaves the planner no statistics (dbsetup.refresh_statistics says why it matters).
        subprocess.run([_pg_tool("vacuumdb"), "--analyze-only", "--dbname", _libpq(url)], check=True,
                       capture_output=True)
    else:
        raise ValueError(f"unsupported database: {url}")


def record_run(url: str, dest: str) -> None:
    """Note the backup in the audit log, so the console warns when backups stop (a failure to
    note it is reported, not fatal: the backup itself is made)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from webapp.oversight import jobs

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            jobs.record_run(session, "backup", file=Path(dest).name)
            session.commit()
    except Exception as error:  # noqa: BLE001  (the backup is made; say why it is not noted)
        print(f"warning: the backup is not noted in the audit log: {error}", file=sys.stderr)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Back up or restore the Gridwalk database (DATABASE_URL).")
    parser.add_argument("action", choices=["backup", "restore"])
    parser.add_argument("file")
    parser.add_argument("--url", default=None, help="database URL (default: DATABASE_URL or the app's default)")
    args = parser.parse_args(argv)
    from config import Config

    url = args.url or os.environ.get("DATABASE_URL") or Config.SQLALCHEMY_DATABASE_URI
    if args.action == "backup":
        print(f"backed up to {backup(url, args.file)}")
        record_run(url, args.file)
    else:
        restore(url, args.file)
        print(f"restored from {args.file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
