"""Devices that sync, and the conflicts sync could not merge."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.base.ids import new_id
from webapp.models.base import Base
from webapp.models.user import User
from webapp.base.timeutil import utcnow


class Device(Base):
    """A coordinator's phone, registered once at login; every sync call names it."""

    __tablename__ = "device"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str | None] = mapped_column(String(100), default=None)  # browser / model
    # Only a hash of the bearer token is kept: a database leak does not let anyone sync.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    last_push_at: Mapped[datetime | None] = mapped_column(default=None)
    last_pull_at: Mapped[datetime | None] = mapped_column(default=None)
    # Highest per-device mutation sequence applied: committed with the mutations themselves.
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)  # up to 2^53 - 1 (sync/batch.py)
    # Unsynced mutations the app reports holding (so the centre sees stranded work).
    pending: Mapped[int] = mapped_column(default=0)
    app_version: Mapped[str | None] = mapped_column(String(32), default=None)
    protocol: Mapped[int | None] = mapped_column(default=None)
    # The cells it held at its last complete pull. Read only for a version 1 cursor (an app from
    # before the cursor said which cells the phone holds: sync/pull.py `_recorded_cells`).
    cells: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Conflict(Base):
    """What sync could not merge, kept for the centre with all three sides.

    The registry keeps its value until the conflict is resolved; the device's value lives
    here, so nothing typed on a phone is ever lost.
    """

    __tablename__ = "conflict"
    __table_args__ = (
        Index("ix_conflict_open", "cell_id", sqlite_where=text("resolved_at IS NULL"),
              postgresql_where=text("resolved_at IS NULL")),
        # Every pull asks for its user's conflicts, newest first (sync/conflict_news.py): without
        # this, a walk of every conflict the district ever recorded.
        Index("ix_conflict_user_created", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(24))
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    # Where it belongs, for the queue's filters and the committee's share of it.
    house_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("house.id"), default=None, index=True)
    cell_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cell.id"), default=None)
    committee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("committee.id"), default=None, index=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("device.id"), default=None)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    mutation_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    base_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    registry_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    device_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    resolution: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # When the personal values it copied were erased with its person's (retention.purge).
    purged_at: Mapped[datetime | None] = mapped_column(default=None)


class SyncMutation(Base):
    """Every mutation a device sent, with its outcome: the idempotency key (a retried batch
    finds its mutations here and applies nothing twice) and the app's receipt."""

    __tablename__ = "sync_mutation"
    __table_args__ = (Index("uq_sync_mutation_device_seq", "device_id", "device_seq", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # client-generated
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"))
    device_seq: Mapped[int] = mapped_column(BigInteger)
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID] = mapped_column(index=True)
    op: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    conflict_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    # Order comes from the server's receipt; the device's clock is kept, with its offset,
    # only to explain what the coordinator saw.
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    device_time: Mapped[datetime | None] = mapped_column(default=None)
    clock_offset_ms: Mapped[int | None] = mapped_column(default=None)
    # The record's version after this mutation when it was applied as sent (what the server
    # added told in the answer): the phone holds that version already, so protocol 2's pull
    # does not send it back (no echo). None for anything else.
    version: Mapped[int | None] = mapped_column(default=None)


class SyncProtocol(Base):
    """When this server first spoke a protocol version: the previous one stays served for
    PROTOCOL_PREVIOUS_DAYS from then (an app updates only when its user taps 更新)."""

    __tablename__ = "sync_protocol"

    protocol: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    since: Mapped[datetime] = mapped_column(default=utcnow)


class RecordAlias(Base):
    """A record id a phone made that now means another record (two offline creations of one
    person or house, merged): later mutations naming the alias are redirected."""

    __tablename__ = "record_alias"

    alias_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    canonical_id: Mapped[uuid.UUID] = mapped_column(index=True)
    record_type: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    mutation_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
