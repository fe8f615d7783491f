"""Escalation: an open task past its due date is marked once, for the grid lead and above."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Tip
from webapp.models.enums import TipStatus
from webapp.base.timeutil import utcnow


def escalate(session: Session, today: date, now: datetime | None = None) -> list[Tip]:
    """Mark open tasks due before `today` and not yet escalated; flush, no commit. Returns
    them so that the caller can audit each (a task escalates once, however often this runs)."""
    now = now or utcnow()
    tips = list(session.scalars(select(Tip).where(
        Tip.status == TipStatus.OPEN, Tip.deleted_at.is_(None), Tip.due_on < today, Tip.escalated_at.is_(None),
    ).order_by(Tip.due_on, Tip.id)))
    for tip in tips:
        tip.escalated_at = now
    session.flush()
    return tips
