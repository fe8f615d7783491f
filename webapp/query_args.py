"""Numbers read from a console page's query string, kept within what the database takes."""
from __future__ import annotations

from flask import request

# Far past any list the console shows (50 rows a page). A larger page made an OFFSET past 64
# bits, which no database takes: a 500 for `?page=99999999999999999999999`.
MAX_PAGE = 1_000_000
# A hundred years; a timedelta of 10^23 days overflows.
MAX_DAYS = 36_500


def page_number(name: str = "page") -> int:
    """The page asked for: 1 when absent or not a whole number, at most MAX_PAGE."""
    return min(MAX_PAGE, max(1, request.args.get(name, 1, type=int) or 1))


def days(name: str) -> int | None:
    """A positive number of days asked for, at most MAX_DAYS; None when absent or not one."""
    value = request.args.get(name, type=int)
    return min(value, MAX_DAYS) if value and value > 0 else None
