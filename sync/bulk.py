"""Inserting a push's new rows: COPY on PostgreSQL, executemany elsewhere.

On PostgreSQL, executemany still sends one INSERT per row (pipelined); COPY sends the rows
as one stream, and a 500-mutation push writes about 1,000 of them (records and receipts):
BENCHMARKS.md, figure 1. The rows go through the same conversions an INSERT would give them:
each column's bind processing (aware UTC times, JSON) and its Python-side default when the
row leaves it out. An integrity error comes back as SQLAlchemy's `IntegrityError`, so
sync/write.py's slow path (one mutation per savepoint) works the same on both backends.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync.sequence import STAMPED_TABLES, mark_unstamped

Convert = Callable[[Any], Any]


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT every row into `table`, in this session's transaction (a column a row leaves
    out gets its default, as in executemany)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    columns = _columns(table, set().union(*rows))
    if dialect.name != "postgresql" or columns is None:
        session.execute(insert(table), rows)
        return
    converts = [_converter(column, dialect) for column in columns]
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    statement = f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN"
    import psycopg  # only on PostgreSQL, where the driver is psycopg

    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([convert(row[c.name]) if c.name in row else convert(_default(c))
                                for c, convert in zip(columns, converts, strict=True)])
    except psycopg.errors.IntegrityError as error:
        raise IntegrityError(statement, None, error) from error
    finally:
        cursor.close()
    if table in STAMPED_TABLES:
        mark_unstamped(session)  # COPY passes by the ORM's execute hook


def _columns(table: Table, given: set[str]) -> list[Column[Any]] | None:
    """The columns to copy: those the rows give, and those with a Python-side default; None
    when a default only the database can compute (a SQL expression, a sequence) is needed."""
    out = []
    for column in table.columns:
        if column.name in given:
            out.append(column)
        elif column.default is not None:
            if not (column.default.is_scalar or column.default.is_callable):
                return None
            out.append(column)
    return out


def _default(column: Column[Any]) -> Any:
    default = column.default
    assert default is not None  # _columns kept only columns in the row or with a default
    return default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]


def _converter(column: Column[Any], dialect: Any) -> Convert:
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value
