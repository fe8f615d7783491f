"""Every reference to a registry record is indexed (webapp/models/base.py optional_reference).

The database checks each reference to a record that is deleted or whose key changes; without
an index on the referring column each check reads the whole referring table. Figure 1's raw
side found one: rewriting 2,000 persons took 37 s on SQLite, each reading every person for
one whose claims_id_of named it.
"""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp.models import Base

# Records of the registry: many rows, made by phones and imports, their references checked.
REGISTRY = {"person", "house", "residency", "room", "unit", "visit", "task", "house_code", "house_flag",
            "house_event", "review", "residence_check", "record_version"}
# Not checked: accounts are disabled, never deleted, and their ids never change; cells,
# committees, devices and campaigns are a few thousand rows the centre keeps.
SMALL = {"users", "cell", "committee", "device", "campaign", "cycle"}


def _unindexed() -> list[tuple[str, str, str]]:
    out = []
    for table in Base.metadata.sorted_tables:
        leading = {next(iter(i.columns)).name for i in table.indexes if i.columns}
        leading |= {next(iter(c.columns)).name for c in table.constraints
                    if c.__class__.__name__ in ("UniqueConstraint", "PrimaryKeyConstraint") and c.columns}
        for fk in table.foreign_keys:
            if fk.column.table.name in REGISTRY and fk.parent.name not in leading:
                out.append((table.name, fk.parent.name, fk.column.table.name))
    return out


def test_every_reference_to_a_registry_record_is_indexed() -> None:
    assert _unindexed() == []


def test_the_referring_tables_are_all_named() -> None:
    """A new table referred to must be put in one list or the other, deliberately."""
    referred = {fk.column.table.name for t in Base.metadata.sorted_tables for fk in t.foreign_keys}
    assert referred <= REGISTRY | SMALL, referred - REGISTRY - SMALL


@pytest.mark.parametrize("table,column", [("person", "claims_id_of"), ("person", "employer_unit_id"),
                                          ("residency", "room_id"), ("task", "closed_visit_id")])
def test_sqlite_checks_a_reference_by_index(db_session: Session, table: str, column: str) -> None:
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans by statistics; the index's presence is checked above and by the migrations")
    plan = " ".join(str(r[-1]) for r in db_session.execute(
        text(f"EXPLAIN QUERY PLAN SELECT 1 FROM {table} WHERE {column} = :v"), {"v": "x"}))
    assert f"INDEX ix_{table}_{column}" in plan, plan
