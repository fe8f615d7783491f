"""What a residence permit (居住证) needs today: renewal, the yearly endorsement (签注), or
nothing. One rule, here and in the field app (static/pwa/store.js `permitDue`), held to the
same cases (tests/vectors/permits.json).

- The card is valid from its issue date to its expiry. Without a recorded issue date, it was
  issued `validity` years before its expiry (PERMIT_VALIDITY_YEARS).
- It is endorsed once a year, in the `window` days before each anniversary of its issue (the
  expiry itself is renewed, not endorsed). An endorsement recorded on or after a window's
  opening counts for that anniversary, however late.
- Due: an anniversary within the next `window` days, not yet endorsed. Overdue: the last
  anniversary passed without an endorsement (the card's functions are suspended), until the
  next window opens. Neither while the card is expired or about to expire: it is renewed then.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year. Past the
    calendar's ends (a card stored as issued in 9999), its last or first day: the rules run
    over every person of the district, and one such card failed all of it."""
    year = day.year + years
    if not 1 <= year <= 9999:
        return date.max if year > 9999 else date.min
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


@dataclass(frozen=True)
class Endorsement:
    due: date  # the anniversary
    days: int  # from today to it (negative: overdue)
    year: int  # years since issue
    overdue: bool


@dataclass(frozen=True)
class PermitDue:
    expiry: date
    days: int  # to the expiry
    expired: bool
    expiring: bool
    endorsement: Endorsement | None


def anniversaries(expiry: date, issued: date | None, validity: int) -> list[tuple[int, date]]:
    """(years since issue, date) of each anniversary before the expiry."""
    if issued is None:
        # Counted back from the expiry, so a 29 February expiry keeps its day where it can.
        return [(validity - j, add_years(expiry, -j)) for j in range(validity - 1, 0, -1)]
    out, k = [], 1
    while (day := add_years(issued, k)) < expiry and k < 100:
        out.append((k, day))
        k += 1
    return out


def permit_due(*, today: date, expiry: date | None, issued: date | None = None, endorsed_on: date | None = None,
               warn: int = 30, window: int = 30, validity: int = 3) -> PermitDue | None:
    """None when nothing is to be done about this card today."""
    if expiry is None:
        return None
    days = (expiry - today).days
    expiring = days <= warn
    endorsement = None
    if not expiring:
        opens = timedelta(days=window)
        done = lambda at: endorsed_on is not None and endorsed_on >= at - opens  # noqa: E731
        passed = [(k, at) for k, at in anniversaries(expiry, issued, validity) if at < today]
        coming = [(k, at) for k, at in anniversaries(expiry, issued, validity) if today <= at <= today + opens]
        if coming and not done(coming[0][1]):
            k, at = coming[0]
            endorsement = Endorsement(at, (at - today).days, k, overdue=False)
        elif not coming and passed and not done(passed[-1][1]):
            k, at = passed[-1]
            endorsement = Endorsement(at, (at - today).days, k, overdue=True)
    if not expiring and endorsement is None:
        return None
    return PermitDue(expiry, days, days < 0, expiring, endorsement)
