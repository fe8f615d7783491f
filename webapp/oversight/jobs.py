"""The daily jobs (`flask tasks escalate`, `flask purge-tombstones`, `scripts/backup.sh`):
each run leaves an audit row ("job_ran"), so the console can warn the centre when one has not
run for two days (a stopped timer is otherwise silent). Plain SQLAlchemy: no Flask."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import AuditEntry

JOBS = ("tasks-escalate", "purge-tombstones", "backup")
ACTION = "job_ran"
STALE_AFTER = timedelta(days=2)


def record_run(session: Session, job: str, **detail: Any) -> None:
    """Note a finished run in the caller's transaction."""
    if job not in JOBS:
        raise ValueError(job)
    session.add(AuditEntry(user_id=None, action=ACTION, object_type="job", object_id=job, detail=detail))


def last_runs(session: Session) -> dict[str, datetime | None]:
    found = dict(session.execute(
        select(AuditEntry.object_id, func.max(AuditEntry.at))
        .where(AuditEntry.action == ACTION, AuditEntry.object_id.in_(JOBS)).group_by(AuditEntry.object_id)).all())
    return {job: _aware(found.get(job)) for job in JOBS}


def _aware(at: Any) -> datetime | None:
    from datetime import timezone

    if at is None:
        return None
    if isinstance(at, str):  # SQLite's max() of a text column gives text
        at = datetime.fromisoformat(at)
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at


def late(session: Session, now: datetime) -> list[tuple[str, datetime | None]]:
    """The jobs that have not run within STALE_AFTER (never: None), in JOBS order."""
    return [(job, at) for job, at in last_runs(session).items() if at is None or now - at > STALE_AFTER]
