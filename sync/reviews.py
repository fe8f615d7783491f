"""Reviews (审核) during a push: made when a coordinator's phone registers someone or ends a
residency where the committee asks for review; decided and resubmitted from phones.

The rules are webapp/registry/review.py's; this module only applies them to the batch's rows.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sync import conflicts
from sync.state import State
from sync.write import Write, update_row
from webapp.models import Device, Review
from webapp.models.enums import ReviewKind, ReviewStatus
from webapp.registry import review as rules
from webapp.registry.scope import Scope


def problems(scope: Scope, cell_id: uuid.UUID | None, current: dict[str, Any] | None,
             values: dict[str, Any]) -> list[dict[str, Any]]:
    """A review's change checked against its status in the registry now (not the phone's
    base): a review is a state machine, so a decision made meanwhile refuses a late one."""
    if current is None or current.get("deleted_at") is not None:
        return []  # unknown or deleted: the usual outcomes
    return [e.as_dict() for e in rules.transition_errors(scope, cell_id, current, values)]


def server_fields(take: dict[str, Any], device: Device, now: datetime) -> None:
    """Who decided and when, set by the server whenever the status moves."""
    if "status" in take:
        take.update(rules.decision_fields(take["status"], device.user_id, now))


def submitted(session: Session, kind: ReviewKind, residency: dict[str, Any], state: State,
              ctx: conflicts.Context, device: Device, now: datetime, work: Write) -> None:
    """A coordinator registered (`registration`) or ended (`move_out`) this residency: a
    pending review if the house's committee requires one (one per residency and kind)."""
    required = rules.committee_requires(session, ctx.committee_id, state.review_required)
    if not rules.needs_review(device.user.role, required):
        return
    if residency["id"] not in state.new["residency"]:
        found = rules.existing_row(session, residency["id"], kind.value)
        if found is not None:
            row = state.add("review", found, replace=False)
            if row["status"] != ReviewStatus.PENDING:
                update_row("review", row, rules.reopen_fields(device.user_id), now, work, device, state)
            return
    person = state.get("person", residency["person_id"]) or {}
    work.extras.append((Review.__table__, rules.new_row(kind.value, residency, person.get("name"), ctx.cell_id,
                                                        device.user_id, now)))
