"""Protocol 2's page form: per table an object of columns, each the list of its rows' values.

Column by column, and each table's rows in the order of the record they hang off (a
residency's person, a plate code's house: the table's first reference, sync/wire.py), so
that the values a compressor sees side by side are alike: a residency's `person_id` column
runs as the persons' `id` column did. A 2,070-house area's first sync is 830 KB in zstd this
way against 894 KB row by row (BENCHMARKS.md, figure 10). The order of rows within a page
means nothing to a phone: each row is put or deleted by its id.

Generic over the columns: whatever a row carries (a column added to a model, a masked
`<field>_masked`) travels without a change to the protocol, less the bookkeeping no phone
reads (sync/wire.py PHONE_OMITS). A column some rows of the table lack is null in them.
"""
from __future__ import annotations

from typing import Any

from sync.wire import PHONE_OMITS, RECORD_TYPES


def table(rows: list[dict[str, Any]], name: str = "") -> dict[str, list[Any]]:
    columns: list[str] = []
    seen: set[str] = set(PHONE_OMITS)
    for row in rows:
        if not seen.issuperset(row):
            for key in row:
                if key not in seen:
                    seen.add(key)
                    columns.append(key)
    refs = RECORD_TYPES[name].refs if name in RECORD_TYPES else ()
    if refs and refs[0][0] in columns:
        ref = refs[0][0]
        rows = sorted(rows, key=lambda r: r.get(ref) or "")
    return {c: [row.get(c) for row in rows] for c in columns}


def expand(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The rows again as objects (what a client does; the tests' reference client uses it)."""
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
