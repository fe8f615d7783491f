"""Protocol 2's page form: per table the column names once, then each row as a list.

Generic over the columns: whatever a row carries (a column added to a model, a masked
`<field>_masked`) travels without a change to the protocol, less the bookkeeping no phone
reads (sync/wire.py PHONE_OMITS). A column some rows of the table lack comes as null in them.
"""
from __future__ import annotations

from typing import Any

from sync.wire import PHONE_OMITS


def table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    columns: list[str] = []
    seen: set[str] = set(PHONE_OMITS)
    for row in rows:
        if not seen.issuperset(row):
            for name in row:
                if name not in seen:
                    seen.add(name)
                    columns.append(name)
    return {"columns": columns, "rows": [[row.get(c) for c in columns] for row in rows]}


def expand(page_table: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows again as objects (what a client does; the tests' reference client uses it)."""
    columns = page_table["columns"]
    return [dict(zip(columns, values, strict=True)) for values in page_table["rows"]]
