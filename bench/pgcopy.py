"""Fill a migrated PostgreSQL database from a district's SQLite file with COPY.

Rows go across as SQLite stores them, with no per-value conversion in Python: PostgreSQL's
text input reads every stored form (uuid as 32 hex digits, naive UTC datetimes under
TimeZone=UTC, booleans as 0/1, JSON as its text). Foreign-key triggers are off while loading
(session_replication_role = replica; the rows come from a database that enforced them), then
serial counters are moved past the copied ids and the tables analysed, as autovacuum would
do soon after a real bulk load (so it does not do so in the middle of a measurement).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine, Integer, Table

from webapp.models import Base

SKIP = frozenset({"alembic_version"})  # the target's migrations wrote their own
BATCH = 20_000


def tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIP]


def fill(engine: Engine, sqlite_file: Path) -> dict[str, int]:
    """COPY every table of the models from the SQLite file; returns rows per table."""
    counts: dict[str, int] = {}
    source = sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True)
    raw = engine.raw_connection()
    try:
        pg = raw.driver_connection
        with pg.cursor() as cur:  # type: ignore[union-attr]
            cur.execute("SET session_replication_role = replica")
            cur.execute("SET TimeZone = 'UTC'")
            cur.execute("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables()) + " CASCADE")
            for table in tables():
                cols = [c.name for c in table.c]
                listed = ", ".join(f'"{c}"' for c in cols)
                rows = source.execute(f'SELECT {listed} FROM "{table.name}"')  # noqa: S608  (model names)
                n = 0
                with cur.copy(f'COPY "{table.name}" ({listed}) FROM STDIN') as copy:
                    while batch := rows.fetchmany(BATCH):
                        for row in batch:
                            copy.write_row(row)
                        n += len(batch)
                counts[table.name] = n
                for col in table.primary_key.columns:
                    if isinstance(col.type, Integer) and len(table.primary_key.columns) == 1:
                        cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{col.name}'), "
                                    f'COALESCE(MAX("{col.name}"), 0) + 1, false) FROM "{table.name}" '
                                    f"WHERE pg_get_serial_sequence('\"{table.name}\"', '{col.name}') IS NOT NULL")
            cur.execute("SET session_replication_role = DEFAULT")
        pg.commit()  # type: ignore[union-attr]
        pg.autocommit = True  # type: ignore[union-attr]
        with pg.cursor() as cur:  # type: ignore[union-attr]
            cur.execute("ANALYZE")
        pg.autocommit = False  # type: ignore[union-attr]
    finally:
        raw.close()
        source.close()
    return counts
