"""Declarative base, column types and the mixin every synced record carries.

Plain SQLAlchemy (no Flask) so that `sync/` and `geo/` can use the models directly.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, MetaData, Uuid, null, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

from webapp.base.ids import new_id
from webapp.base.timeutil import utcnow

# Stable constraint names, so that Alembic batch migrations on SQLite can find them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    PostgreSQL keeps the zone natively (timestamptz); SQLite has no zone, so values are
    stored as naive UTC and the zone is put back on read. Naive input is refused, because
    a naive time from a phone or a form is ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass an aware datetime")
        value = value.astimezone(timezone.utc)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime, uuid.UUID: Uuid}


class Synced:
    """What every record that travels to phones carries.

    `version` counts every committed change (SQLAlchemy raises StaleDataError when an ORM
    update finds another version, so console edits are optimistic too); `deleted_at` is the
    tombstone, and `purged_at` marks a tombstone whose personal data has been erased.
    """

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    purged_at: Mapped[datetime | None] = mapped_column(default=None)
    # Position in the change sequence, in commit order. Every insert and update (ORM or
    # Core) leaves it NULL; the commit stamps it from a one-row counter (webapp/registry/sequence.py),
    # so pulls never skip a change that commits late.
    seq: Mapped[int | None] = mapped_column(BigInteger, default=None, onupdate=null())

    @declared_attr
    def changed_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"), default=None)

    @declared_attr.directive
    def __mapper_args__(cls: Any) -> dict[str, Any]:
        # `cls` is the mapped model: its `__table__` comes with `Base`, which this mixin does
        # not subclass (declaring `__table__` here would retype it for every synced model).
        return {"version_id_col": cls.__table__.c.version}

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def tombstone(self, by_user_id: int | None) -> None:
        """Soft-delete: the row stays so that phones learn of the deletion."""
        self.deleted_at = utcnow()
        self.changed_by_id = by_user_id



def optional_reference(table: str, column: str) -> Index:
    """The index a mostly-empty reference to a registry record needs, over its set values only.

    A record that is deleted, or whose key changes, has every reference to it checked by the
    database (SQLite and PostgreSQL alike): without an index each check reads the whole
    referring table. On SQLite even an UPDATE of a person that rewrote claims_id_of read every
    person, 18 ms a row at 66,000 persons (BENCHMARKS.md, figure 1's raw side). Partial: most
    rows hold no reference, and an index entry for each would cost every insert.
    """
    where = text(f"{column} IS NOT NULL")
    return Index(f"ix_{table}_{column}", column, sqlite_where=where, postgresql_where=where)
