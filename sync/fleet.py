"""The centre's view of devices: who holds which phone, and which hold stranded work.

A committee sees the devices of the people working its cells (their coordinators, grid
leads and its own staff); the centre sees all. Decided from `Scope`, like everything else.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, CompoundSelect, and_, false, or_, select, true, union
from sqlalchemy.orm import Session, selectinload

from webapp.models import Cell, Device, User, cell_coordinator
from webapp.registry.scope import Scope
from webapp.base.timeutil import utcnow


def device_clause(scope: Scope) -> ColumnElement[bool]:
    if scope.cell_ids is None:
        return true()
    if not scope.cell_ids:
        return false()
    cells = scope.cell_ids
    workers: CompoundSelect[int | None] = union(
        select(cell_coordinator.c.user_id).where(cell_coordinator.c.cell_id.in_(cells)),
        select(Cell.grid_lead_id).where(Cell.id.in_(cells), Cell.grid_lead_id.is_not(None)),
        select(User.id).where(User.committee_id.in_(select(Cell.committee_id).where(Cell.id.in_(cells)))),
    )
    return Device.user_id.in_(workers)


def stale_clause(days: int, now: datetime | None = None) -> ColumnElement[bool]:
    """Holding unsynced work and no push for `days` (a phone that never pushed: since it registered)."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    return and_(Device.pending > 0, or_(Device.last_push_at <= cutoff,
                                        and_(Device.last_push_at.is_(None), Device.created_at <= cutoff)))


def visible_devices(session: Session, scope: Scope, *, stale_days: int | None = None,
                    now: datetime | None = None) -> list[Device]:
    """Devices in scope, live ones first, most recently heard from first."""
    query = (select(Device).where(device_clause(scope)).options(selectinload(Device.user))
             .order_by(Device.revoked_at.is_not(None), Device.last_seen_at.desc().nulls_last(), Device.created_at.desc()))
    if stale_days is not None:
        query = query.where(stale_clause(stale_days, now))
    return list(session.scalars(query))


def find_visible(session: Session, scope: Scope, device_id: uuid.UUID) -> Device | None:
    return session.scalar(select(Device).where(Device.id == device_id, device_clause(scope)))


def is_stale(device: Device, days: int, now: datetime | None = None) -> bool:
    since = device.last_push_at or device.created_at
    return device.pending > 0 and since <= (now or utcnow()) - timedelta(days=days)
