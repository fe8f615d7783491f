"""Review (审核): when a review is made, who may move it where, and what the server sets.

The one place for these rules: sync push (sync/apply.py) and the console both ask here.
Plain SQLAlchemy, no Flask. A review is a quality gate, not a hold: the residency it is
about counts in the registry whatever the review's state.

    pending  --grid lead / committee / centre-->  approved
    pending  --grid lead / committee / centre, with a reason-->  returned
    returned --anyone who may edit the cell (the coordinator)-->  pending   (resubmitted)

Anything else is refused with `review.transition` (or `review.reason` for a return
without a reason), in Chinese and English like every other field error.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, select
from sqlalchemy.orm import Session, selectinload

from webapp.base.ids import new_id
from webapp.models import Cell, Committee, House, Residency, Review, User
from webapp.models.enums import ReviewKind, ReviewStatus, Role
from webapp.models.review import REVIEW_REASON_MAX
from webapp.registry.scope import Scope
from webapp.base.timeutil import utcnow
from webapp.validation import FieldError

DECIDED = frozenset({ReviewStatus.APPROVED, ReviewStatus.RETURNED})
# Grading: a review still waiting (pending on the lead, or returned to the coordinator) this
# many days after its last move counts as open work (docs/review.md).
LATE_AFTER_DAYS = 7


def needs_review(role: str | None, review_required: bool) -> bool:
    """Only coordinators' entries are reviewed, and only where the committee asks for it."""
    return role == Role.COORDINATOR and review_required


def committee_requires(session: Session, committee_id: uuid.UUID | None,
                       cache: dict[uuid.UUID, bool] | None = None) -> bool:
    if committee_id is None:
        return False
    if cache is not None and committee_id in cache:
        return cache[committee_id]
    required = bool(session.scalar(select(Committee.review_required).where(Committee.id == committee_id)))
    if cache is not None:
        cache[committee_id] = required
    return required


def cell_requires(session: Session, cell_id: uuid.UUID | None) -> bool:
    if cell_id is None:
        return False
    return bool(session.scalar(select(Committee.review_required).join(Cell, Cell.committee_id == Committee.id)
                               .where(Cell.id == cell_id)))


def new_row(kind: str, residency: Mapping[str, Any], person_name: str | None, cell_id: uuid.UUID | None,
            user_id: int | None, now: datetime) -> dict[str, Any]:
    """A pending review as a table row (sync writes rows, not ORM objects)."""
    return {"id": new_id(), "version": 1, "changed_at": now, "changed_by_id": user_id,
            "house_id": residency["house_id"], "cell_id": cell_id, "residency_id": residency["id"],
            "person_id": residency["person_id"], "person_name": person_name, "kind": kind, "status": ReviewStatus.PENDING.value,
            "reason": None, "submitted_by_id": user_id, "decided_by_id": None, "decided_at": None,
            "created_at": now}


def existing_row(session: Session, residency_id: uuid.UUID, kind: str) -> dict[str, Any] | None:
    """The live review of this residency and kind, if any (a residency ended, reopened and
    ended again has one already: it is reopened rather than doubled)."""
    row = session.execute(select(Review.__table__).where(
        Review.residency_id == residency_id, Review.kind == kind, Review.deleted_at.is_(None))).mappings().first()
    return dict(row) if row is not None else None


def reopen_fields(user_id: int | None) -> dict[str, Any]:
    """Submitting again something already reviewed: pending, undecided, the new submitter."""
    return {"status": ReviewStatus.PENDING.value, "decided_by_id": None, "decided_at": None,
            "submitted_by_id": user_id}


def decision_fields(status: str, user_id: int | None, now: datetime) -> dict[str, Any]:
    """Set by the server whenever the status changes: who decided and when (cleared on resubmission)."""
    if status in DECIDED:
        return {"decided_by_id": user_id, "decided_at": now}
    return {"decided_by_id": None, "decided_at": None}


def may_decide(scope: Scope, cell_id: uuid.UUID | None) -> bool:
    return scope.may("review") and scope.covers_cell(cell_id)


def may_resubmit(scope: Scope, cell_id: uuid.UUID | None) -> bool:
    return scope.may("edit") and scope.covers_cell(cell_id)


def transition_errors(scope: Scope, cell_id: uuid.UUID | None, current: Mapping[str, Any],
                      values: Mapping[str, Any]) -> list[FieldError]:
    """Why this change of a review (its wire fields `status`/`reason`, parsed) is refused.

    `cell_id` is the cell of the review's house now: scope follows the house, as for every
    other record. Repeating the current status changes nothing and is allowed (a retried
    decision), except that a reason may only be changed on a returned review by someone who
    may decide it, or cleared on a pending one by someone who may resubmit it.
    """
    old = current["status"]
    new = values.get("status") or old
    reason = values["reason"] if "reason" in values else current.get("reason")
    if new == old:
        if "reason" not in values or values["reason"] == current.get("reason"):
            return []
        if old == ReviewStatus.RETURNED and may_decide(scope, cell_id):
            return [] if reason else [_reason_error()]
        if old == ReviewStatus.PENDING and values["reason"] is None and may_resubmit(scope, cell_id):
            return []
        return [_transition_error(old, new, decider=old == ReviewStatus.RETURNED)]
    if old == ReviewStatus.PENDING and new in DECIDED:
        if not may_decide(scope, cell_id):
            return [_transition_error(old, new, decider=True)]
        if new == ReviewStatus.RETURNED and not reason:
            return [_reason_error()]
        return []
    if old == ReviewStatus.RETURNED and new == ReviewStatus.PENDING:
        return [] if may_resubmit(scope, cell_id) else [_transition_error(old, new, decider=False)]
    return [_transition_error(old, new, decider=False)]


def _label(status: str, lang: str) -> str:
    try:
        return ReviewStatus(status).label(lang)
    except ValueError:
        return status


def _transition_error(old: str, new: str, *, decider: bool) -> FieldError:
    if decider:
        return FieldError("status", "review.transition",
                          "只有本网格的网格长、居委会或中心可以审核",
                          "only the grid lead of the cell, the committee or the centre may decide a review")
    return FieldError("status", "review.transition",
                      f"审核不能从“{_label(old, 'zh')}”改为“{_label(new, 'zh')}”",
                      f"a review cannot go from {_label(old, 'en').lower()} to {_label(new, 'en').lower()}")


def _reason_error() -> FieldError:
    return FieldError("reason", "review.reason", "退回时必须填写原因", "a reason is required to return a review")


# ---------------------------------------------------------------- the console (ORM)

def open_review(session: Session, residency: Residency, kind: ReviewKind, user: User) -> Review | None:
    """A coordinator created (`registration`) or ended (`move_out`) this residency through
    the console: a pending review where the house's committee asks for one."""
    house = residency.house
    if not needs_review(user.role, cell_requires(session, house.cell_id)):
        return None
    found = session.scalar(select(Review).where(Review.residency_id == residency.id, Review.kind == kind.value,
                                                Review.deleted_at.is_(None)))
    if found is not None:
        if found.status != ReviewStatus.PENDING:
            for name, value in reopen_fields(user.id).items():
                setattr(found, name, value)
            found.changed_by_id = user.id
        return found
    review = Review(house_id=house.id, cell_id=house.cell_id, residency_id=residency.id,
                    person_id=residency.person_id, person_name=residency.person.name, kind=kind.value, status=ReviewStatus.PENDING.value,
                    submitted_by_id=user.id, changed_by_id=user.id, created_at=utcnow())
    session.add(review)
    return review


# ---------------------------------------------------------------- the queue and decisions

QUEUE_STATUSES = ("waiting", "pending", "returned", "approved", "all")


class ReviewRefused(Exception):
    """A decision or resubmission the rules refuse; `errors` say why (zh/en)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.en for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class QueueFilters:
    status: str = "waiting"  # waiting = pending or returned
    cell_id: uuid.UUID | None = None
    kind: str | None = None


def queue(scope: Scope, filters: QueueFilters) -> Select[Review]:
    """Reviews of houses in the scope (as the house is now), pending first, then returned,
    then approved; oldest first within each, so what has waited longest is on top."""
    order = case((Review.status == ReviewStatus.PENDING, 0), (Review.status == ReviewStatus.RETURNED, 1), else_=2)
    query = (select(Review).join(House, House.id == Review.house_id)
             .where(Review.deleted_at.is_(None), scope.house_clause())
             .order_by(order, Review.created_at, Review.id)
             .options(selectinload(Review.house), selectinload(Review.person), selectinload(Review.residency),
                      selectinload(Review.submitted_by), selectinload(Review.decided_by)))
    if filters.status == "waiting":
        query = query.where(Review.status != ReviewStatus.APPROVED)
    elif filters.status != "all":
        query = query.where(Review.status == filters.status)
    if filters.cell_id is not None:
        query = query.where(House.cell_id == filters.cell_id)
    if filters.kind is not None:
        query = query.where(Review.kind == filters.kind)
    return query


def find_visible(session: Session, scope: Scope, review_id: uuid.UUID) -> Review | None:
    return session.scalar(select(Review).join(House, House.id == Review.house_id).where(
        Review.id == review_id, Review.deleted_at.is_(None), scope.house_clause()))


def change_status(review: Review, scope: Scope, user_id: int, status: str, reason: str | None) -> str:
    """Approve, return (with a reason) or resubmit, through the same rules as a phone's push;
    returns the status before. Raises ReviewRefused."""
    reason = (reason or "").strip() or None
    if status == review.status:
        # On a phone a repeated status is a retried push; a console button always means a move.
        raise ReviewRefused([_transition_error(review.status, status, decider=False)])
    values: dict[str, Any] = {"status": status}
    if status == ReviewStatus.RETURNED or reason is not None:
        values["reason"] = reason
    if reason is not None and len(reason) > REVIEW_REASON_MAX:
        raise ReviewRefused([FieldError("reason", "field.too_long", f"原因超过 {REVIEW_REASON_MAX} 个字符",
                                        f"the reason is longer than {REVIEW_REASON_MAX} characters")])
    errors = transition_errors(scope, review.house.cell_id, {"status": review.status, "reason": review.reason}, values)
    if errors:
        raise ReviewRefused(errors)
    before = review.status
    review.status = status
    if "reason" in values:
        review.reason = values["reason"]
    for name, value in decision_fields(status, user_id, utcnow()).items():
        setattr(review, name, value)
    review.changed_by_id = user_id
    return before


def reviews_of(session: Session, residency_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Review]]:
    """Live reviews by residency, for the house and person pages (newest first). By residency,
    not by house or person: a merged person's or house's residencies keep their reviews."""
    if not residency_ids:
        return {}
    query = (select(Review).where(Review.residency_id.in_(residency_ids), Review.deleted_at.is_(None))
             .order_by(Review.created_at.desc())
             .options(selectinload(Review.submitted_by), selectinload(Review.decided_by)))
    out: dict[uuid.UUID, list[Review]] = {}
    for review in session.scalars(query):
        out.setdefault(review.residency_id, []).append(review)
    return out


def set_required(committee: Committee, required: bool, user_id: int) -> bool:
    """Switch review on or off for a committee; returns the setting before."""
    before = committee.review_required
    committee.review_required = required
    committee.changed_by_id = user_id
    return before
