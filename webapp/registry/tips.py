"""Tips (大众发现): residents' and leads' reports, queued for the house's cell to follow up."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import uuid
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from webapp.models import House, Tip
from webapp.models.enums import TipKind, TipSource, TipStatus
from webapp.models.tip import TIP_TEXT_MAX
from webapp.registry.scope import Scope
from webapp.timeutil import utcnow


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
    source: str = TipSource.PUBLIC, client_ip_hash: str | None = None,
) -> Tip:
    """Queue a tip for the house's current cell; flush, no commit. `text` is kept verbatim."""
    if kind not in {k.value for k in TipKind} or source not in {s.value for s in TipSource}:
        raise TipError(f"unknown tip kind or source: {kind!r}, {source!r}")
    text = clean_text(text)
    if len(text) > TIP_TEXT_MAX:
        raise TipError(f"tip text longer than {TIP_TEXT_MAX} characters")
    tip = Tip(house_id=house.id, cell_id=house.cell_id, kind=kind, text=text,
              contact_phone=contact_phone or None, status=TipStatus.OPEN, source=source,
              client_ip_hash=client_ip_hash)
    session.add(tip)
    session.flush()
    return tip


def visible_tips(scope: Scope, status: str | None = TipStatus.OPEN) -> Select[Tip]:
    """Tips about houses the scope sees (by the house's cell now: tips follow a moved house)."""
    query = (
        select(Tip).join(House, House.id == Tip.house_id)
        .where(scope.house_clause(), Tip.deleted_at.is_(None))
        .options(selectinload(Tip.house))
        .order_by(Tip.created_at.desc(), Tip.id)
    )
    return query if status is None else query.where(Tip.status == status)


def find_visible(session: Session, scope: Scope, tip_id: uuid.UUID) -> Tip | None:
    return session.scalar(visible_tips(scope, status=None).where(Tip.id == tip_id))


def close_tip(tip: Tip, status: str, outcome: str, by_user_id: int | None,
              now: datetime | None = None) -> None:
    """Mark a tip done or rejected, with what was found; the caller commits."""
    if status not in (TipStatus.DONE, TipStatus.REJECTED):
        raise TipError(f"a tip closes as done or rejected, not {status!r}")
    if not tip.is_open:
        raise TipError("tip already closed")
    outcome = clean_text(outcome)
    if not outcome or len(outcome) > TIP_TEXT_MAX:
        raise TipError(f"outcome must have 1 to {TIP_TEXT_MAX} characters")
    tip.status = status
    tip.outcome = outcome
    tip.closed_at = now or utcnow()
    tip.closed_by_id = by_user_id
    tip.changed_by_id = by_user_id
