"""Tasks (待办): everything that asks a coordinator to go and look at a house.

Its first name was `Tip` (table and wire type `tip`, until issue 20): the migration
`l1_tip_becomes_task` renamed the table, and phones still on sync protocol 1 keep saying
"tip" on the wire (`sync/wire.py`, `PROTOCOL_1_NAMES`).

A task comes from a source (a resident's plate declaration, a lead's or a reporter's report,
a move-out to confirm, a rule flag, a permit endorsement due, a house still unvisited late in
the cycle), is due on a date, may be assigned to one coordinator, and closes with a result
and the visit that found it.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, Synced, optional_reference
from webapp.models.house import House
from webapp.models.visit import Visit
from webapp.base.timeutil import utcnow

TASK_TEXT_MAX = 500


class Task(Synced, Base):
    """The task model (待办), one for every source. Coverage counts open tasks per cell by
    `cell_id` and `status`; grading counts a reporter's tasks that closed as `changed`."""

    __tablename__ = "task"
    __table_args__ = (
        # The coordinators' queue: open tasks of a cell, newest first.
        Index("ix_task_open", "cell_id", "created_at",
              sqlite_where=text("status = 'open' AND deleted_at IS NULL"),
              postgresql_where=text("status = 'open' AND deleted_at IS NULL")),
        # Escalation and the "overdue" filter look at open tasks by due date only.
        Index("ix_task_open_due", "due_on",
              sqlite_where=text("status = 'open' AND deleted_at IS NULL"),
              postgresql_where=text("status = 'open' AND deleted_at IS NULL")),
        optional_reference("task", "closed_visit_id"),
        # A generated task's key (e.g. "unvisited:<house>:2026-11"): generating twice makes none.
        Index("uq_task_origin_key", "origin_key", unique=True,
              sqlite_where=text("origin_key IS NOT NULL"),
              postgresql_where=text("origin_key IS NOT NULL")),
    )

    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("house.id"), index=True)
    # Copied from the house when the task is made: the cell that was asked to act on it.
    cell_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cell.id"), default=None)
    kind: Mapped[str] = mapped_column(String(12))  # enums.TaskKind
    text: Mapped[str] = mapped_column(String(TASK_TEXT_MAX), default="")
    contact_phone: Mapped[str | None] = mapped_column(String(20), default=None)
    status: Mapped[str] = mapped_column(String(10), default="open")  # enums.TaskStatus
    source: Mapped[str] = mapped_column(String(12), default="public")  # enums.TaskSource
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # A keyed hash of the sender's address: enough to see a flood from one place, not who.
    client_ip_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # What was found or done, in words; `result` says the same as a closed vocabulary.
    outcome: Mapped[str | None] = mapped_column(String(TASK_TEXT_MAX), default=None)
    result: Mapped[str | None] = mapped_column(String(12), default=None)  # enums.TaskResult

    # None: the cell's coordinators together (every one of them sees it on the phone).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    due_on: Mapped[date | None] = mapped_column(default=None)
    # Set once when an open task passes its due date (`flask tasks escalate`).
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_visit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("visit.id"), default=None)
    # A community reporter (楼组长, volunteer, property guard) who filed it.
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)
    # Generated tasks only: what generated it, so that a second run finds it (never sent to phones).
    origin_key: Mapped[str | None] = mapped_column(String(80), default=None)

    house: Mapped[House] = relationship()
    closed_visit: Mapped[Visit | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def led_to_change(self) -> bool:
        """Closed with a change recorded: what a reporter's contribution is counted by."""
        return self.status == "done" and self.result == "changed"

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due_on is not None and self.due_on < today
