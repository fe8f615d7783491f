"""Numbers read from a query string (console pages, the pull), kept within what the database takes."""
from __future__ import annotations

from flask import request
from werkzeug.routing import IntegerConverter

# Far past any list the console shows (50 rows a page). A larger page made an OFFSET past 64
# bits, which no database takes: a 500 for `?page=99999999999999999999999`.
MAX_PAGE = 1_000_000
# A hundred years; a timedelta of 10^23 days overflows.
MAX_DAYS = 36_500
MAX_ID = 2**31 - 1  # an INTEGER id column's range


def whole_number(text: str | None, most: int = MAX_ID) -> int | None:
    """`text` as a whole number from 0 to `most`, else None. ASCII digits only: str.isdigit
    takes "²", which int() then refuses (a 500); and within `most` (a database column's range)."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(most)):
        return None
    value = int(text)
    return value if value <= most else None


def page_number(name: str = "page") -> int:
    """The page asked for: 1 when absent or not a whole number, at most MAX_PAGE."""
    return min(MAX_PAGE, max(1, request.args.get(name, 1, type=int) or 1))


def days(name: str) -> int | None:
    """A positive number of days asked for, at most MAX_DAYS; None when absent or not one."""
    value = request.args.get(name, type=int)
    return min(value, MAX_DAYS) if value and value > 0 else None


class RowId(IntegerConverter):
    """`<rowid:name>` in a route: an INTEGER primary key, 1 to MAX_ID. Beyond it `<int:>` handed
    the database a number it refuses (psycopg's NumericValueOutOfRange, SQLite's
    OverflowError): a 500 where an unknown id is a 404."""

    def __init__(self, map: object) -> None:  # noqa: A002  (werkzeug's own name)
        super().__init__(map, min=1, max=MAX_ID)  # type: ignore[arg-type]
