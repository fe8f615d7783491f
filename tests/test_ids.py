"""Record ids (webapp/base/ids.py) against the vectors the field app is held to too
(tests/vectors/ids.json; tests/e2e/test_fieldapp_ids.py), and what the server makes with them."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Uuid, select
from sqlalchemy.orm import Session

from webapp.base.ids import new_id, uuid7

from webapp.models import Person
from webapp.models.base import Base

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "vectors" / "ids.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", VECTORS["make"], ids=[c["id"] for c in VECTORS["make"]])
def test_made_as_the_vectors_say(case: dict[str, Any]) -> None:
    made = uuid7(case["ms"], bytes.fromhex(case["random"]))
    assert str(made) == case["uuid"]
    assert made.version == 7 and made.variant == uuid.RFC_4122


@pytest.mark.parametrize("case", VECTORS["refused"], ids=[c["id"] for c in VECTORS["refused"]])
def test_a_moment_outside_the_range_is_refused(case: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        uuid7(case["ms"], bytes(16))


def test_sixteen_random_bytes_are_needed() -> None:
    with pytest.raises(ValueError):
        uuid7(0, bytes(15))


def test_fresh_ids_carry_the_moment_they_were_made_and_sort_by_it() -> None:
    before = time.time_ns() // 1_000_000
    made = []
    for _ in range(50):
        made.append(new_id())
        time.sleep(0.0011)
    after = time.time_ns() // 1_000_000
    assert len(set(made)) == 50
    assert all(m.version == 7 for m in made)
    stamps = [int.from_bytes(m.bytes[:6], "big") for m in made]
    assert before <= stamps[0] and stamps[-1] <= after
    # One a millisecond apart or more: their order is the order they were made in, as text
    # (SQLite keeps 32 hex digits) and as bytes (PostgreSQL's uuid).
    assert sorted(made, key=lambda m: m.hex) == made
    assert sorted(made, key=lambda m: m.bytes) == made


def test_rows_the_server_makes_get_time_ordered_ids(db_session: Session) -> None:
    person = Person(name="新住户", id_type="resident", category="registered")
    db_session.add(person)
    db_session.flush()
    assert person.id.version == 7
    assert db_session.scalar(select(Person.id).where(Person.id == person.id)) == person.id


def test_old_ids_stay_valid(db_session: Session) -> None:
    """Rows made before, and ids from old apps, are version 4: nothing checks the version."""
    old = uuid.uuid4()
    db_session.add(Person(id=old, name="老住户", id_type="resident", category="registered"))
    db_session.flush()
    assert db_session.get(Person, old) is not None


def test_every_table_keyed_by_a_uuid_makes_version_7() -> None:
    """Tables whose key the caller names (an alias, a phone's mutation id) have no default."""
    keyed = [t.c.id for t in Base.metadata.sorted_tables if "id" in t.c and isinstance(t.c.id.type, Uuid)
             and t.c.id.primary_key]
    assert len(keyed) >= 20
    named_by_the_caller = {"sync_mutation"}  # the phone's mutation id
    for column in keyed:
        if column.table.name in named_by_the_caller:
            continue
        assert column.default is not None, column
        assert column.default.arg(None).version == 7, column  # type: ignore[union-attr]


def test_no_module_makes_random_ids_of_its_own() -> None:
    """One maker of ids: a `uuid4()` beside it would bring random keys back, unnoticed."""
    root = Path(__file__).parent.parent
    makers = [str(p.relative_to(root)) for folder in ("webapp", "sync", "geo")
              for p in sorted((root / folder).rglob("*.py")) if "uuid4(" in p.read_text(encoding="utf-8")]
    assert makers == []
    assert "randomUUID" not in "".join(p.read_text(encoding="utf-8") for p in (root / "static" / "pwa").rglob("*.js"))
