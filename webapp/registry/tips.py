"""Tasks (待办, the `Tip` model): making, finding and closing them for the house's cell.

Residents' plate declarations (大众发现), leads' and community reporters' reports and the
system's own tasks all go through here; `webapp.registry.tasks` adds the generators,
escalation and reassignment.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import uuid
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from webapp.models import House, Tip, Visit
from webapp.models.enums import TaskResult, TipKind, TipSource, TipStatus
from webapp.models.tip import TIP_TEXT_MAX
from webapp.registry.scope import Scope
from webapp.registry.tasks.defaults import set_defaults
from webapp.registry.tasks.settings import TaskSettings, default_settings
from webapp.base.timeutil import local_today, utcnow


class TipError(ValueError):
    """A tip that cannot be made or closed as asked (the forms catch this before it happens)."""


def client_key(address: str | None, secret: str) -> str:
    """A keyed hash of the sender's address, for rate limits and spotting floods.

    Keyed, because all IPv4 addresses can be hashed in minutes: a plain hash would be the
    address. IPv6 counts by its /64, the prefix one subscriber gets, or a single phone
    could step through addresses and never meet the limit.
    """
    try:
        ip = ipaddress.ip_address((address or "").strip())
        text = str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)
    except ValueError:
        text = "unknown"
    return hmac.new(secret.encode(), b"tip-ip\x00" + text.encode(), hashlib.sha256).hexdigest()[:32]


def clean_text(value: str | None) -> str:
    """Line breaks made uniform (browsers send CRLF; the 500 limit counts characters)."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def create_tip(
    session: Session, house: House, kind: str, text: str = "", contact_phone: str | None = None,
    source: str = TipSource.PUBLIC, client_ip_hash: str | None = None, reporter_id: int | None = None,
    settings: TaskSettings | None = None, today: date | None = None,
) -> Tip:
    """Queue a task for the house's current cell, due by its source's days and given to the
    cell's coordinator if it has one; flush, no commit. `text` is kept verbatim."""
    if kind not in {k.value for k in TipKind} or source not in {s.value for s in TipSource}:
        raise TipError(f"unknown tip kind or source: {kind!r}, {source!r}")
    text = clean_text(text)
    if len(text) > TIP_TEXT_MAX:
        raise TipError(f"tip text longer than {TIP_TEXT_MAX} characters")
    tip = Tip(house_id=house.id, cell_id=house.cell_id, kind=kind, text=text,
              contact_phone=contact_phone or None, status=TipStatus.OPEN, source=source,
              client_ip_hash=client_ip_hash, reporter_id=reporter_id)
    set_defaults(session, tip, settings or default_settings(), today or local_today())
    session.add(tip)
    session.flush()
    return tip


# The assignee filter: anyone's, unassigned (the cell's coordinators together), or one user's.
ANY, UNASSIGNED = None, "none"


def visible_tips(scope: Scope, status: str | None = TipStatus.OPEN, *, assignee: int | str | None = ANY,
                 overdue_on: date | None = None, escalated: bool = False) -> Select[Tip]:
    """Tips about houses the scope sees (by the house's cell now: tips follow a moved house).

    `overdue_on`: only open tasks due before that day; `escalated`: only escalated ones."""
    query = (
        select(Tip).join(House, House.id == Tip.house_id)
        .where(scope.house_clause(), Tip.deleted_at.is_(None))
        .options(selectinload(Tip.house), selectinload(Tip.closed_visit))
        .order_by(Tip.created_at.desc(), Tip.id)
    )
    if status is not None:
        query = query.where(Tip.status == status)
    if assignee == UNASSIGNED:
        query = query.where(Tip.assignee_id.is_(None))
    elif isinstance(assignee, int):
        query = query.where(Tip.assignee_id == assignee)
    if overdue_on is not None:
        query = query.where(Tip.status == TipStatus.OPEN, Tip.due_on < overdue_on)
    if escalated:
        query = query.where(Tip.escalated_at.is_not(None))
    return query


def find_visible(session: Session, scope: Scope, tip_id: uuid.UUID) -> Tip | None:
    return session.scalar(visible_tips(scope, status=None).where(Tip.id == tip_id))


def result_problem(status: str | None, result: str | None) -> str | None:
    """Why this result cannot close a task as `status` (None: it can). A change was made
    only by a task done: a rejected report changed nothing."""
    if result is None:
        return None
    if result not in {r.value for r in TaskResult}:
        return f"unknown result {result!r}"
    if result == TaskResult.CHANGED and status != TipStatus.DONE:
        return "only a task closed as done can have changed the registry"
    return None


def visit_problem(tip_house_id: uuid.UUID, visit_house_id: uuid.UUID | None) -> str | None:
    """Why this visit cannot be the one that closed the task (None: it can)."""
    if visit_house_id is None:
        return "the visit does not exist"
    if visit_house_id != tip_house_id:
        return "the visit was at another house"
    return None


def close_tip(tip: Tip, status: str, outcome: str, by_user_id: int | None,
              now: datetime | None = None, *, result: str | None = None, visit: Visit | None = None) -> None:
    """Mark a tip done or rejected, with what was found (in words, and as a `TaskResult`) and
    the visit that found it; the caller commits."""
    if status not in (TipStatus.DONE, TipStatus.REJECTED):
        raise TipError(f"a tip closes as done or rejected, not {status!r}")
    if not tip.is_open:
        raise TipError("tip already closed")
    outcome = clean_text(outcome)
    if not outcome or len(outcome) > TIP_TEXT_MAX:
        raise TipError(f"outcome must have 1 to {TIP_TEXT_MAX} characters")
    problem = result_problem(status, result) or (
        visit_problem(tip.house_id, visit.house_id) if visit is not None else None)
    if problem:
        raise TipError(problem)
    tip.status = status
    tip.outcome = outcome
    tip.result = result
    tip.closed_visit_id = visit.id if visit is not None else None
    tip.closed_at = now or utcnow()
    tip.closed_by_id = by_user_id
    tip.changed_by_id = by_user_id
