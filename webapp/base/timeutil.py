"""Clock helpers: store UTC, show Asia/Shanghai."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_local(moment: datetime, tz: ZoneInfo = LOCAL_TZ) -> datetime:
    return moment.astimezone(tz)


def local_date(moment: datetime, tz: ZoneInfo = LOCAL_TZ) -> date:
    """The local calendar day of a stored instant (a naive one is UTC, as stored): what a
    page means by "the visit of 1 December". Its UTC date is a day early before 08:00."""
    return to_local(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc), tz).date()


def local_today(tz: ZoneInfo = LOCAL_TZ, now: datetime | None = None) -> date:
    return to_local(now or utcnow(), tz).date()


def local_week_start(tz: ZoneInfo = LOCAL_TZ, now: datetime | None = None) -> date:
    """Monday of this week in the local zone (weeks start on Monday in China)."""
    today = local_today(tz, now)
    return today - timedelta(days=today.weekday())


def local_day_bounds_utc(day: date, tz: ZoneInfo = LOCAL_TZ) -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar day starts and ends."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    return start.astimezone(timezone.utc), (start + timedelta(days=1)).astimezone(timezone.utc)
