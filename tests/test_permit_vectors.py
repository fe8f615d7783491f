"""The permits rule against the shared vectors (tests/vectors/permits.json); the field app is
tested against the same file in tests/e2e/test_fieldapp_permit_vectors.py."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from webapp.registry.rules import RuleSettings, evaluate

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "vectors" / "permits.json").read_text(encoding="utf-8"))["cases"]


def settings_of(case: dict[str, Any]) -> RuleSettings:
    return RuleSettings(permit_expiry_warn_days=case.get("warn", 30), permit_endorse_window_days=case.get("window", 30),
                        permit_validity_years=case.get("validity", 3))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_permits_rule_matches_the_vectors(db_session, area, case: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    day = lambda key: date.fromisoformat(case[key]) if case.get(key) else None  # noqa: E731
    person.permit_expiry, person.permit_issued, person.permit_endorsed_on = day("expiry"), day("issued"), day("endorsed")
    db_session.commit()
    flags = [f for f in evaluate(db_session, today=date.fromisoformat(case["today"]), settings=settings_of(case),
                                 cell_ids=frozenset({area.cells["A1"].id}), codes=("permits",))
             if f.record_id == person.id]
    assert sorted(f.kind for f in flags) == sorted(case["kinds"])
    for f in flags:
        if f.kind in ("endorsement", "endorsement_overdue"):
            assert f.numbers == {"due": case["due"], "days": case["due_days"], "year": case["year"]}
        else:
            assert f.numbers["days"] == case["days"]
