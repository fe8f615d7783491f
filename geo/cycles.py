"""Collection cycles: the named, fixed periods coverage is counted in ("2026-11", "2026Q4")."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo.settings import GeoSettings, default_settings
from webapp.models import Cycle
from webapp.base.timeutil import local_day_bounds_utc

KINDS = ("month", "quarter")


def period(today: date, kind: str) -> tuple[str, date, date]:
    """Name, first day and last day (inclusive) of the period of `kind` holding `today`."""
    if kind == "month":
        first = today.replace(day=1)
        name = f"{today.year}-{today.month:02d}"
        months = 1
    elif kind == "quarter":
        q = (today.month - 1) // 3
        first = date(today.year, 3 * q + 1, 1)
        name = f"{today.year}Q{q + 1}"
        months = 3
    else:
        raise ValueError(f"COLLECTION_CYCLE must be one of {KINDS}, not {kind!r}")
    y, m = divmod(first.month - 1 + months, 12)
    return name, first, date(first.year + y, m + 1, 1) - timedelta(days=1)


def current_cycle(session: Session, today: date, *, kind: str | None = None,
                  settings: GeoSettings | None = None) -> Cycle:
    """The cycle of the configured kind covering `today`, created if there is none yet."""
    kind = kind or (settings or default_settings()).collection_cycle
    found = session.scalars(
        select(Cycle).where(Cycle.kind == kind, Cycle.starts_on <= today, Cycle.ends_on >= today)
        .order_by(Cycle.starts_on.desc())
    ).first()
    if found is not None:
        return found
    name, first, last = period(today, kind)
    cycle = Cycle(name=name, kind=kind, starts_on=first, ends_on=last)
    try:
        # Two workers may both find none; the unique name lets exactly one insert win.
        with session.begin_nested():
            session.add(cycle)
    except IntegrityError:
        return session.scalars(select(Cycle).where(Cycle.name == name)).one()
    return cycle


def utc_bounds(cycle: Cycle) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the cycle's local days (Asia/Shanghai)."""
    return local_day_bounds_utc(cycle.starts_on)[0], local_day_bounds_utc(cycle.ends_on)[1]
