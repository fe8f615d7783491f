"""What happens to a house over its life: re-plated, split into rooms or flats, demolished.

(Merging two houses that are one lives in `sync/combine.py`.) Every step is an ordinary new
version written through the ORM and leaves a HouseEvent, so the house page shows the history
and phones learn of it on their next pull.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from webapp.models import House, HouseCode, HouseEvent, Residency, Review, Task
from webapp.models.enums import ReviewStatus, TaskStatus
from webapp.registry.plates import candidate_code, current_plate
from webapp.registry.tasks.records import close_task
from webapp.base.timeutil import local_today, utcnow

ADDRESS_FIELDS = ("cell_id", "cell_manual", "road", "number", "building", "unit", "floor", "lon", "lat", "use")


class HistoryError(ValueError):
    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


@dataclass(frozen=True)
class SplitPart:
    room: str
    living_area: float | None = None


def ensure_alive(session: Session, house: House) -> None:
    """Refuse any change to a removed house (demolished, or split and so retired): changing it
    again would revive it or make duplicate houses (a double click on Split made four).
    The row is read under a lock (FOR UPDATE; SQLite serialises writers anyway), so of two
    concurrent requests the second waits for the first and then sees the tombstone."""
    deleted_at = session.scalar(select(House.deleted_at).where(House.id == house.id).with_for_update())
    if deleted_at is not None or house.deleted_at is not None:
        raise HistoryError("house.deleted", "该房屋已注销（已拆除或已分户）",
                           "This house no longer exists (demolished or split)")


def _event(session: Session, house: House, kind: str, by_user_id: int | None,
           related: list[uuid.UUID] | None = None, **detail: object) -> None:
    session.add(HouseEvent(house_id=house.id, kind=kind, at=utcnow(), changed_by_id=by_user_id,
                           related_house_ids=[str(r) for r in related or []], detail=detail))


def replate(session: Session, house: House, by_user_id: int | None, reason: str = "") -> HouseCode:
    """A new plate (the old one lost or damaged): the old code is retired and still resolves."""
    ensure_alive(session, house)
    old = current_plate(house)
    if old is not None:
        old.retired_at = utcnow()
        old.changed_by_id = by_user_id
    taken = set(session.scalars(select(HouseCode.code).where(HouseCode.house_id == house.id)))
    attempt = 0
    code = candidate_code(house.id, attempt)
    while code in taken or session.scalar(select(HouseCode.id).where(HouseCode.code == code)) is not None:
        attempt += 1
        code = candidate_code(house.id, attempt)
    plate = HouseCode(code=code, kind="plate", house_id=house.id, changed_by_id=by_user_id)
    session.add(plate)
    _event(session, house, "replated", by_user_id, old=old.code if old else None, new=code, reason=reason)
    session.flush()
    return plate


def _open_residencies(session: Session, house: House) -> list[Residency]:
    return list(session.scalars(select(Residency).where(
        Residency.house_id == house.id, Residency.end_date.is_(None), Residency.deleted_at.is_(None))))


# Why a demolition withdrew the house's waiting reviews (kept in its "demolished" event).
REVIEWS_WITHDRAWN = "房屋已拆除，无需审核 / the house was demolished"


def _waiting_reviews(session: Session, house: House) -> list[Review]:
    """Reviews still waiting (pending on the lead, or returned to the coordinator) about this
    house or any residency at it. Withdrawn as tombstones, as every other door removes a synced
    record: the queue, the to-do lists, the grading backlog and the phones all leave them out,
    with no new status for the phones to learn. Decided (approved) ones stay as history."""
    at_house = select(Residency.id).where(Residency.house_id == house.id)
    return list(session.scalars(select(Review).where(
        Review.deleted_at.is_(None), Review.status != ReviewStatus.APPROVED,
        or_(Review.house_id == house.id, Review.residency_id.in_(at_house)))))


def demolish(session: Session, house: House, by_user_id: int | None, on: date, reason: str = "",
             today: date | None = None) -> int:
    """The house is gone: its open residencies end that day, its open tasks close and its
    waiting reviews are withdrawn, and the house becomes a tombstone.

    Returns how many residencies ended; each of those persons is now a possible omission
    (no current residence) for the centre to follow up.
    """
    ensure_alive(session, house)
    today = today or local_today()
    if on > today:
        # The house is a tombstone from now on, yet its residents would live there until the
        # day typed (up to 2099): a demolition is recorded once it has happened.
        raise HistoryError("demolish.future", f"拆除日期不能晚于今天（{today.isoformat()}）",
                           f"A demolition cannot be dated after today ({today.isoformat()})")
    ended = _open_residencies(session, house)
    for residency in ended:
        residency.end_date = max(on, residency.start_date)
        residency.end_reason = "房屋拆除 demolished"
        residency.changed_by_id = by_user_id
    # Its open tasks have nothing left to do: closed with the reason, not left to fall overdue
    # and be escalated to the committee.
    open_tasks = list(session.scalars(select(Task).where(Task.house_id == house.id, Task.status == TaskStatus.OPEN,
                                                         Task.deleted_at.is_(None))))
    for task in open_tasks:
        close_task(task, TaskStatus.REJECTED, "房屋已拆除，无需处理 / the house was demolished", by_user_id)
    # Its waiting reviews are about residents of a house that is gone: withdrawn, with the reason.
    withdrawn = _waiting_reviews(session, house)
    for review in withdrawn:
        review.tombstone(by_user_id)
    _event(session, house, "demolished", by_user_id, on=on.isoformat(), reason=reason,
           residencies_ended=len(ended), tasks_closed=len(open_tasks), reviews_withdrawn=len(withdrawn),
           reviews_withdrawn_reason=REVIEWS_WITHDRAWN if withdrawn else None)
    house.tombstone(by_user_id)
    session.flush()
    return len(ended)


def split(session: Session, house: House, parts: list[SplitPart], by_user_id: int | None) -> list[House]:
    """One house becomes several (rooms let separately, a flat divided): each part is a new
    house at the same address with its own room, and the original is retired once nobody
    lives in it any more."""
    ensure_alive(session, house)
    names = [p.room.strip() for p in parts]
    if len(parts) < 2 or any(not n for n in names) or len(set(names)) != len(names):
        raise HistoryError("split.parts", "请至少填写两个不重复的房间号", "give at least two different room names")
    if _open_residencies(session, house):
        raise HistoryError("split.occupied", "请先为在住人员登记新的居住房间或迁出",
                           "first move the occupants to their new rooms or record their move-out")
    new = []
    for part in parts:
        child = House(**{f: getattr(house, f) for f in ADDRESS_FIELDS}, room=part.room.strip(),
                      living_area=part.living_area, changed_by_id=by_user_id)
        session.add(child)
        new.append(child)
    session.flush()
    for child in new:
        _event(session, child, "created", by_user_id, [house.id], split_from=str(house.id))
    _event(session, house, "split", by_user_id, [c.id for c in new])
    house.tombstone(by_user_id)
    session.flush()
    return new
