"""Writing a push's rows: new ones by COPY on PostgreSQL (a few by one multi-row INSERT) and
by the driver's own executemany on SQLite; changed ones by one UPDATE from arrays on
PostgreSQL, executemany elsewhere.

On PostgreSQL, executemany still sends one INSERT per row (pipelined); COPY sends the rows
as one stream, and a 500-mutation push writes about 1,000 of them (records and receipts):
BENCHMARKS.md, figure 1. Up to `SMALL` rows (a phone's few door visits, their receipts) go
in one INSERT instead: COPY's start and end cost a round trip each, and the server more. The
rows go through the same conversions an INSERT would give them: each column's bind
processing (aware UTC times, JSON) and its Python-side default when the row leaves it out.
On SQLite SQLAlchemy's executemany ran its compiled statement's parameter processing once
per row (a dict built, each value looked up and bound) around the same conversions, where
the driver needs only the converted values in a tuple (py-spy: the inserts went from 22.0 %
to 20.4 % of a 500-mutation push's samples). An integrity error
comes back as SQLAlchemy's `IntegrityError`, so sync/write.py's slow path (one mutation
per savepoint) works the same on both backends.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import JSON, Column, Connection, Date, DateTime, Integer, Table, bindparam, insert, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import Null

from webapp.registry.sequence import STAMPED_TABLES, mark_unstamped

Convert = Callable[[Any], Any]
SMALL = 50


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT every row into `table`, in this session's transaction (a column a row leaves
    out gets its default, as in executemany)."""
    if not rows:
        return
    connection = session.connection()
    columns = _columns(table, set().union(*rows))
    if columns is None:
        connection.execute(_insert(table), rows)
    elif connection.dialect.name == "postgresql":
        _copy(connection, table, columns, rows)
    else:
        _executemany(connection, table, columns, rows)
    if table in STAMPED_TABLES:
        # Written on the connection, past the ORM's execute hook that would have named it.
        mark_unstamped(session, table)


def driver_values(connection: Connection, columns: list[Column[Any]], rows: list[dict[str, Any]]) -> Any:
    """Each row's values in the columns' order, as the driver takes them (bench.push's
    floor converts its rows with this too, before it starts the clock)."""
    converts = [_once_each(_converter(column, connection.dialect))
                if isinstance(getattr(column.type, "impl", column.type), (DateTime, Date))
                else _converter(column, connection.dialect) for column in columns]
    pairs = list(zip(columns, converts, strict=True))
    return ([convert(row[c.name]) if c.name in row else convert(_default(c)) for c, convert in pairs]
            for row in rows)


def _once_each(convert: Convert) -> Convert:
    """`convert`, remembering each value's result for this statement: a push's rows share a
    few times (its own, the phone's), and formatting a time was a quarter of converting."""
    seen: dict[Any, Any] = {}

    def once(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            out = seen[value] = convert(value)
            return out
    return once


def _names(connection: Connection, table: Table, columns: list[Column[Any]]) -> tuple[str, str]:
    """The table's name and the column list, quoted for the dialect."""
    preparer = connection.dialect.identifier_preparer
    return preparer.format_table(table), ", ".join(preparer.quote(c.name) for c in columns)


def _executemany(connection: Connection, table: Table, columns: list[Column[Any]], rows: list[dict[str, Any]]) -> None:
    """SQLite: one INSERT run for every row by sqlite3's own cursor."""
    import sqlite3  # only on SQLite

    table_name, names = _names(connection, table, columns)
    statement = f"INSERT INTO {table_name} ({names}) VALUES ({', '.join(['?'] * len(columns))})"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(statement, driver_values(connection, columns, rows))
    except sqlite3.IntegrityError as error:
        raise IntegrityError(statement, None, error) from error
    finally:
        cursor.close()


def _copy(connection: Connection, table: Table, columns: list[Column[Any]], rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows by COPY, or a few in one INSERT, through psycopg's own cursor."""
    table_name, names = _names(connection, table, columns)
    values = driver_values(connection, columns, rows)
    import psycopg  # only on PostgreSQL, where the driver is psycopg

    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if len(rows) <= SMALL:
            # A few rows (a phone's visits): one INSERT of them all. COPY's start and end are
            # two round trips, and PostgreSQL spent ~0.4 ms more on the COPY of ten visits.
            statement = _small_insert(table_name, names, len(columns), len(rows))
            cursor.execute(statement, [v for row in values for v in row])
        else:
            statement = f"COPY {table_name} ({names}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for row in values:
                    copy.write_row(row)
    except psycopg.errors.IntegrityError as error:
        raise IntegrityError(statement, None, error) from error
    finally:
        cursor.close()


@cache
def _small_insert(table_name: str, names: str, width: int, count: int) -> str:
    one = "(" + ", ".join(["%s"] * width) + ")"
    return f"INSERT INTO {table_name} ({names}) VALUES " + ", ".join([one] * count)


@cache
def _insert(table: Table) -> Any:
    return insert(table)


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


@lru_cache(maxsize=1024)  # per column and engine: tests make many engines
def _converter(column: Column[Any], dialect: Any) -> Convert:
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value


def update_rows(session: Session, table: Table, columns: frozenset[str], rows: list[dict[str, Any]]) -> None:
    """Set `columns` of each row (`_id`, at version `_expected`) and add 1 to its version,
    with the columns' `onupdate` for the rest (seq NULL: stamped at commit). On PostgreSQL
    one `UPDATE ... FROM unnest(arrays)` instead of a statement per row (a push's 200 updates
    took ~10 ms as executemany)."""
    if not rows:
        return
    dialect = session.connection().dialect
    arrays = _update_arrays(table, columns, rows) if dialect.name == "postgresql" else None
    if arrays is None:
        stmt = (update(table).where(table.c.id == bindparam("_id"), table.c.version == bindparam("_expected"))
                .values({**{c: bindparam(c) for c in columns}, "version": table.c.version + 1}))
        session.execute(stmt, rows)
        return
    quote = dialect.identifier_preparer.quote
    name = dialect.identifier_preparer.format_table(table)
    sets = [f"{quote(c)} = v.{quote(c)}" for c in arrays if not c.startswith("_")]
    sets += [f"{quote(c.name)} = NULL" for c in table.columns
             if c.name not in arrays and isinstance(getattr(c.onupdate, "arg", None), Null)]
    params = [bindparam(f"a{i}", values, type_=ARRAY(kind)) for i, (kind, values) in enumerate(arrays.values())]
    casts = ", ".join(f"CAST(:a{i} AS {kind.compile(dialect=dialect)}[])"
                      for i, (kind, _values) in enumerate(arrays.values()))
    session.execute(text(
        f"UPDATE {name} SET {', '.join(sets)}, version = {name}.version + 1 "
        f"FROM unnest({casts}) AS v({', '.join(quote(c) for c in arrays)}) "
        f"WHERE {name}.id = v._id AND {name}.version = v._expected").bindparams(*params))
    if table in STAMPED_TABLES:
        mark_unstamped(session, table)  # a text statement passes by the ORM's execute hook


def _update_arrays(table: Table, columns: frozenset[str], rows: list[dict[str, Any]]) -> dict[str, tuple[Any, list[Any]]] | None:
    """Column → (type, one value per row), `_id` and `_expected` first; None when a column
    does not go into an array simply (JSON) or an `onupdate` is neither NULL nor a callable."""
    out: dict[str, tuple[Any, list[Any]]] = {"_id": (table.c.id.type, [r["_id"] for r in rows]),
                                             "_expected": (Integer(), [r["_expected"] for r in rows])}
    for c in sorted(columns):
        if isinstance(table.c[c].type, JSON):
            return None
        out[c] = (table.c[c].type, [r[c] for r in rows])
    for column in table.columns:
        onupdate = column.onupdate
        if column.name in out or onupdate is None or isinstance(getattr(onupdate, "arg", None), Null):
            continue
        if not onupdate.is_callable or isinstance(column.type, JSON):
            return None
        value = onupdate.arg(None)  # type: ignore[attr-defined]  # once for the whole statement
        out[column.name] = (column.type, [value] * len(rows))
    return out

