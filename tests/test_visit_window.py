"""The visits a phone holds cover the whole collection cycle at any moment of it.

With a window of 90 days, a quarter's first day had left the phone by its last (July to
September is 92 days): houses visited that day showed "not visited this cycle" on the
coordinator's map and list just when the cycle was being finished. The field app keeps the
same window (static/pwa/keep.js, tests/e2e/test_fieldapp_visit_window.py)."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from geo.cycles import KINDS, period
from sync import devices
from sync.pull import RECENT_VISITS, pull, recent_visits_since
from tests import factories as f
from webapp.base.timeutil import utcnow
from webapp.models import Visit

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "vectors" / "visit_window.json").read_text(encoding="utf-8"))["cases"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_window_matches_the_vectors(case: dict[str, Any]) -> None:
    assert (_utc(case["visited_at"]) >= recent_visits_since(_utc(case["now"]))) is case["kept"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_cycle_fits_in_the_window_on_its_last_minute(kind: str) -> None:
    day = date(2026, 1, 1)
    while day < date(2030, 1, 1):
        _name, first, last = period(day, kind)
        end = datetime.combine(last, time(23, 59, 59), SHANGHAI)
        start = datetime.combine(first, time(0, 0), SHANGHAI)
        assert start >= recent_visits_since(end), f"{kind} {first}..{last}"
        day = last + timedelta(days=1)


def test_a_first_pull_brings_a_visit_of_91_days_ago(db_session: Session) -> None:
    s = db_session
    cell = f.cell(s, f.committee(s))
    house = f.house(s, cell)
    user = f.user(s, f"window{uuid.uuid4().hex[:6]}", "coordinator")
    cell.coordinators.append(user)
    s.flush()
    device = devices.register(s, user, None, None).device
    kept = Visit(house_id=house.id, outcome="verified", visited_at=utcnow() - timedelta(days=91))
    gone = Visit(house_id=house.id, outcome="verified", visited_at=utcnow() - RECENT_VISITS - timedelta(hours=1))
    s.add_all([kept, gone])
    s.commit()
    page = pull(s, device, None, limit=1000)
    s.commit()
    assert {r["id"] for r in page.changes.get("visit", [])} == {str(kept.id)}
