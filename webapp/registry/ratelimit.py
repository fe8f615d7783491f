"""Fixed-window rate limits counted in the database, so every app worker and server agrees.

Process memory would give each gunicorn worker its own budget (and forget it on restart);
one row per (key, window) in `rate_counter`, bumped by an atomic upsert, does not. The
same statement (`INSERT … ON CONFLICT DO UPDATE … RETURNING`) runs on SQLite ≥ 3.35 and
PostgreSQL, so two workers hitting the same key at once both get a distinct count.

Every hit counts, allowed or not: a client that keeps hammering stays refused until the
window ends, and the window end is what `retry_after` says.

The caller commits: a hit should be committed even when the request later fails, or a
client could retry a failing request without limit.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from webapp.models import RateCounter
from webapp.base.timeutil import utcnow

# Rows older than this are pruned, whatever their key; so no window may be longer.
KEEP = timedelta(days=2)
MAX_KEY_LEN = 120
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int  # hits left in this window after this one
    retry_after: int  # seconds until the window ends; 0 when allowed


def window_start(now: datetime, window_s: int) -> datetime:
    """The start of the fixed window holding `now`; aligned to the epoch so all workers agree."""
    elapsed = int((now - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=elapsed - elapsed % window_s)


def hit(session: Session, key: str, limit: int, window_s: int, now: datetime | None = None) -> Decision:
    """Count one hit on `key`; allowed while the window holds at most `limit` hits."""
    if limit < 1 or not 1 <= window_s <= KEEP.total_seconds():
        raise ValueError(f"need limit ≥ 1 and 1 ≤ window_s ≤ {int(KEEP.total_seconds())}")
    if not key or len(key) > MAX_KEY_LEN:
        raise ValueError(f"key must have 1 to {MAX_KEY_LEN} characters")
    now = now or utcnow()
    start = window_start(now, window_s)
    count = _bump(session, key, start)
    if count == 1:
        # A fresh window: the first hit of a key in each window clears out old rows, so the
        # table stays small without a scheduled job.
        prune(session, now)
    if count <= limit:
        return Decision(True, limit - count, 0)
    ends = start + timedelta(seconds=window_s)
    return Decision(False, 0, max(1, math.ceil((ends - now).total_seconds())))


def prune(session: Session, now: datetime | None = None) -> int:
    """Delete counters of windows that started more than `KEEP` ago; return how many."""
    cutoff = (now or utcnow()) - KEEP
    result = session.execute(
        delete(RateCounter).where(RateCounter.window_start < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _bump(session: Session, key: str, start: datetime) -> int:
    dialect = session.get_bind().dialect.name
    insert = _INSERTS.get(dialect)
    if insert is None:
        raise RuntimeError(f"rate limits need SQLite or PostgreSQL, not {dialect}")
    stmt = insert(RateCounter).values(key=key, window_start=start, count=1).on_conflict_do_update(
        index_elements=[RateCounter.key, RateCounter.window_start],
        set_={"count": RateCounter.count + 1},
    ).returning(RateCounter.count)
    return int(session.execute(stmt).scalar_one())


# Both dialects spell the upsert alike; other databases are not supported.
_INSERTS: dict[str, Callable[[type[RateCounter]], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert, "sqlite": sqlite.insert,
}
