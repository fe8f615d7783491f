"""What a database error may say where it is kept: in a log, or in a conflict for the centre.

A refused write's own message can carry the row it refused: PostgreSQL's DETAIL names the key
that clashed ("Key (id_number)=(310110…) already exists") or the whole failing row, and
SQLAlchemy's text of the error adds the statement's parameters (the engine hides those:
`hide_parameters` in config.py). Logs outlive the registry's masking and retention
(SECURITY.md, "Addresses and server logs"), so they get which rule refused what, never the
values.
"""
from __future__ import annotations

import sqlite3


def describe(error: BaseException) -> str:
    """The error's kind and the constraint, table, column and type it names."""
    orig = getattr(error, "orig", None) or error
    diag = getattr(orig, "diag", None)
    if diag is not None:
        # psycopg: the class says what happened (UniqueViolation, InvalidTextRepresentation)
        # and the names say where. Even the primary message may quote the value ('invalid
        # input syntax for type integer: "310110…"'), and DETAIL the key or the whole row.
        named = [f"{what} {value}" for what, value in (
            ("constraint", diag.constraint_name), ("table", diag.table_name), ("column", diag.column_name),
            ("type", diag.datatype_name)) if value]
        return "; ".join([f"{type(orig).__name__} ({diag.sqlstate})", *named])
    if isinstance(orig, sqlite3.Error):
        # SQLite's messages name the constraint or the columns ("UNIQUE constraint failed:
        # person.id_number"), never a value.
        return f"{type(orig).__name__}: {orig}"
    # Anything else (a value the driver could not convert) may quote the value: its kind only.
    return type(orig).__name__
