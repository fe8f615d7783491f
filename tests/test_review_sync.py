"""Review (审核) through sync: the server makes a review when a coordinator's phone registers
someone or ends a residency where the committee asks for review; the grid lead approves or
returns it from a phone; the coordinator resubmits; every other move is refused."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.conftest import valid_id
from tests.sync_client import Phone, registered_phone
from webapp.models import Conflict, Residency, Review


def _phone(client, username: str) -> Phone:  # type: ignore[no-untyped-def]
    # Keeps approved reviews, closed tasks and ended residencies, which the field app prunes
    # (docs/sync.md §4): these tests send edits of them to see how the server answers.
    return registered_phone(client, username, prune=False)


def _require_review(s, area, required: bool = True) -> None:  # type: ignore[no-untyped-def]
    area.committees["A"].review_required = required
    s.commit()


def _register(phone: Phone, house_id: str, number: str = "31011719900307123") -> tuple[str, str]:
    """On the phone: a new person and their residency at the house."""
    person_id, residency_id = str(uuid.uuid4()), str(uuid.uuid4())
    phone.queue("person", "create", person_id, {"name": "李新", "id_number": valid_id(number)})
    phone.queue("residency", "create", residency_id, {"person_id": person_id, "house_id": house_id,
                                                      "start_date": "2026-11-20", "relation": "tenant"})
    return person_id, residency_id


def _reviews(s) -> list[Review]:  # type: ignore[no-untyped-def]
    s.rollback()
    return list(s.scalars(select(Review).order_by(Review.created_at, Review.kind)))


def _statuses(outcomes: list[dict[str, Any]]) -> list[str]:
    return [o["status"] for o in outcomes]


def _codes(outcome: dict[str, Any]) -> list[str]:
    return [e["code"] for e in outcome.get("errors", [])]


def test_no_review_where_the_committee_does_not_require_it(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    phone = _phone(client, "coord")
    _register(phone, str(area.houses["A1"].id))
    assert _statuses(phone.push()) == ["applied", "applied"]
    assert _reviews(db_session) == []


def test_a_coordinators_registration_makes_one_pending_review_that_reaches_the_phones(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    _require_review(s, area)
    coord, lead = area.users["coordinator"], area.users["grid_lead"]
    phone = _phone(client, "coord")
    assert phone.rows["committee"][str(area.committees["A"].id)]["review_required"] is True
    person_id, residency_id = _register(phone, str(area.houses["A1"].id))
    assert _statuses(phone.push()) == ["applied", "applied"]
    [review] = _reviews(s)
    assert (review.kind, review.status, review.residency_id, review.person_id, review.house_id, review.cell_id) == (
        "registration", "pending", uuid.UUID(residency_id), uuid.UUID(person_id), area.houses["A1"].id,
        area.cells["A1"].id)
    assert (review.submitted_by_id, review.decided_by_id, review.decided_at) == (coord.id, None, None)
    # The review is a house child: both the coordinator's and the lead's phones pull it.
    phone.pull()
    wire = phone.rows["review"][str(review.id)]
    assert {k: wire[k] for k in ("kind", "status", "reason", "residency_id", "submitted_by_id", "decided_by_id",
                                 "decided_at")} == {
        "kind": "registration", "status": "pending", "reason": None, "residency_id": residency_id,
        "submitted_by_id": coord.id, "decided_by_id": None, "decided_at": None}
    lead_phone = _phone(client, "lead")
    assert str(review.id) in lead_phone.rows["review"]
    assert lead.id != coord.id
    # The same registration pushed again (a retry under new mutation ids) makes no second review.
    phone.queue("residency", "create", residency_id, {"person_id": person_id, "house_id": str(area.houses["A1"].id),
                                                      "start_date": "2026-11-20"})
    assert _statuses(phone.push()) == ["merged"]
    assert len(_reviews(s)) == 1
    # Still counts as a residency: review is a gate, not a hold.
    assert s.get(Residency, uuid.UUID(residency_id)).is_open


def test_only_coordinators_entries_are_reviewed(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    _require_review(db_session, area)
    phone = _phone(client, "lead")
    _register(phone, str(area.houses["A1"].id))
    assert _statuses(phone.push()) == ["applied", "applied"]
    assert _reviews(db_session) == []


def test_a_move_out_makes_a_review_once_per_residency(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    _require_review(s, area)
    residency = area.persons["A1"].current_residency()
    rid = str(residency.id)
    phone = _phone(client, "coord")
    phone.queue("residency", "update", rid, {"end_date": "2026-11-21", "end_reason": "搬走"})
    assert _statuses(phone.push()) == ["applied"]
    [review] = _reviews(s)
    assert (review.kind, review.status, review.residency_id) == ("move_out", "pending", residency.id)
    # The person leaves the phones' records with the move-out; the review keeps the name, so
    # the lead's phone still says who moved.
    watcher = _phone(client, "lead")
    watcher.pull()
    assert str(area.persons["A1"].id) not in watcher.rows.get("person", {})
    assert watcher.rows["review"][str(review.id)]["person_name"] == "王A1"
    # Correcting the date of an ended residency is no second move-out.
    phone.pull()
    phone.queue("residency", "update", rid, {"end_date": "2026-11-22"})
    assert _statuses(phone.push()) == ["applied"]
    assert len(_reviews(s)) == 1
    # Approved, then the residency reopened and ended again: the same review, pending again.
    lead = _phone(client, "lead")
    lead.queue("review", "update", str(review.id), {"status": "approved"})
    assert _statuses(lead.push()) == ["applied"]
    # The person lives nowhere now, so only the centre may reopen (a phone may not move them
    # back in: sync/reach.py); the coordinator's phone then records the move-out again.
    phone.pull()
    phone.queue("residency", "update", rid, {"end_date": None, "end_reason": None})
    assert _statuses(phone.push()) == ["conflict"]
    s.rollback()
    ended = s.get(Residency, residency.id)
    ended.end_date, ended.end_reason = None, None
    s.commit()
    phone.pull()
    phone.queue("residency", "update", rid, {"end_date": "2026-11-25", "end_reason": "搬走"})
    assert _statuses(phone.push()) == ["applied"]
    [again] = _reviews(s)
    assert (again.id, again.status, again.decided_by_id, again.decided_at) == (review.id, "pending", None, None)


def test_moving_house_reviews_the_new_registration_not_the_automatic_move_out(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """The old residency ended by the server (the person registered elsewhere) is confirmed
    by a task at the old house, not reviewed: no coordinator entered that move-out."""
    s = db_session
    _require_review(s, area)
    phone = _phone(client, "coord")
    other = f.house(s, area.cells["A1"])
    s.commit()
    phone.pull()
    new_id = str(uuid.uuid4())
    phone.queue("residency", "create", new_id, {"person_id": str(area.persons["A1"].id), "house_id": str(other.id),
                                                "start_date": "2026-11-20"})
    assert _statuses(phone.push()) == ["applied"]
    assert [(r.kind, r.residency_id) for r in _reviews(s)] == [("registration", uuid.UUID(new_id))]


def test_lead_returns_coordinator_resubmits_lead_approves(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    _require_review(s, area)
    coord, lead = area.users["coordinator"], area.users["grid_lead"]
    phone = _phone(client, "coord")
    person_id, _ = _register(phone, str(area.houses["A1"].id))
    phone.push()
    [review] = _reviews(s)
    rid = str(review.id)
    lead_phone = _phone(client, "lead")
    # Returned without a reason: refused, in both languages.
    lead_phone.queue("review", "update", rid, {"status": "returned"})
    [refused] = lead_phone.push()
    assert refused["status"] == "rejected" and _codes(refused) == ["review.reason"]
    assert refused["errors"][0]["zh"] and refused["errors"][0]["en"]
    lead_phone.queue("review", "update", rid, {"status": "returned", "reason": "  身份证号与本人不符  "})
    assert _statuses(lead_phone.push()) == ["applied"]
    [review] = _reviews(s)
    assert (review.status, review.reason, review.decided_by_id) == ("returned", "身份证号与本人不符", lead.id)
    assert review.decided_at is not None
    # The reason reaches the coordinator's phone.
    phone.pull()
    assert (phone.rows["review"][rid]["status"], phone.rows["review"][rid]["reason"]) == ("returned", "身份证号与本人不符")
    # Fixing the person does not resubmit by itself.
    phone.queue("person", "update", person_id, {"phone": "13900001111"})
    assert _statuses(phone.push()) == ["applied"]
    assert _reviews(s)[0].status == "returned"
    # The explicit resubmission does; the server clears the decision.
    phone.queue("review", "update", rid, {"status": "pending", "reason": None})
    assert _statuses(phone.push()) == ["applied"]
    [review] = _reviews(s)
    assert (review.status, review.reason, review.decided_by_id, review.decided_at, review.changed_by_id) == (
        "pending", None, None, None, coord.id)
    lead_phone.pull()
    lead_phone.queue("review", "update", rid, {"status": "approved"})
    assert _statuses(lead_phone.push()) == ["applied"]
    [review] = _reviews(s)
    assert (review.status, review.decided_by_id) == ("approved", lead.id)
    phone.pull()
    assert phone.rows["review"][rid]["status"] == "approved"
    assert phone.rows["review"][rid]["decided_by_id"] == lead.id


def test_a_late_decision_is_refused_against_the_registrys_status(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """Two deciders offline: the second one's decision meets a review already decided."""
    s = db_session
    _require_review(s, area)
    phone = _phone(client, "coord")
    _register(phone, str(area.houses["A1"].id))
    phone.push()
    [review] = _reviews(s)
    lead_phone, committee_phone = _phone(client, "lead"), _phone(client, "comm")
    lead_phone.queue("review", "update", str(review.id), {"status": "approved"})
    committee_phone.queue("review", "update", str(review.id), {"status": "returned", "reason": "请补充租赁合同"})
    assert _statuses(lead_phone.push()) == ["applied"]
    [late] = committee_phone.push()
    assert late["status"] == "rejected" and _codes(late) == ["review.transition"]
    assert _reviews(s)[0].status == "approved"
    # Repeating the decision already made changes nothing and is not an error.
    committee_phone.pull()
    committee_phone.queue("review", "update", str(review.id), {"status": "approved"})
    assert _statuses(committee_phone.push()) == ["applied"]


@pytest.mark.parametrize(("start", "who", "fields", "code"), [
    ("pending", "coord", {"status": "approved"}, "review.transition"),
    ("pending", "coord", {"status": "returned", "reason": "自己退回"}, "review.transition"),
    ("pending", "coord", {"reason": "写个原因"}, "review.transition"),
    ("pending", "lead", {"status": "returned", "reason": ""}, "review.reason"),
    ("approved", "lead", {"status": "pending"}, "review.transition"),
    ("approved", "lead", {"status": "returned", "reason": "改主意"}, "review.transition"),
    ("approved", "coord", {"status": "pending"}, "review.transition"),
    ("returned", "lead", {"status": "approved"}, "review.transition"),
    ("returned", "coord", {"status": "approved"}, "review.transition"),
    ("returned", "lead", {"reason": ""}, "review.reason"),
    ("returned", "coord", {"reason": "不退了"}, "review.transition"),
    ("pending", "lead", {"status": "closed"}, "field.choice"),
    ("pending", "lead", {"status": "returned", "reason": "长" * 201}, "field.too_long"),
    ("pending", "lead", {"status": "approved", "decided_by_id": 1}, "field.not_writable"),
    # A lead of another cell, and another committee, may not decide.
    ("pending", "lead_b", {"status": "approved"}, "out_of_scope"),  # outside: as an unknown review (sync/reach.py)
    ("pending", "comm_b", {"status": "returned", "reason": "不是本居委"}, "out_of_scope"),
])
def test_illegal_moves_are_refused(client, area, db_session, start: str, who: str, fields: dict[str, Any],  # type: ignore[no-untyped-def]
                                   code: str) -> None:
    s = db_session
    _require_review(s, area)
    f.user(s, "lead_b", "grid_lead")
    area.cells["B1"].grid_lead_id = s.scalar(select(f.User.id).where(f.User.username == "lead_b"))
    f.user(s, "comm_b", "committee", committee_id=area.committees["B"].id)
    s.commit()
    phone = _phone(client, "coord")
    _register(phone, str(area.houses["A1"].id))
    phone.push()
    [review] = _reviews(s)
    if start != "pending":
        review.status, review.reason = start, ("原因" if start == "returned" else None)
        s.commit()
    before = (review.status, review.reason, review.version)
    actor = _phone(client, who)
    actor.rows.setdefault("review", {})[str(review.id)] = {"id": str(review.id), "version": review.version,
                                                            "status": start}
    actor.queue("review", "update", str(review.id), fields)
    [outcome] = actor.push()
    if code == "out_of_scope":
        assert outcome["status"] == "conflict", outcome
        s.rollback()
        assert s.get(Conflict, uuid.UUID(outcome["conflict_id"])).kind == code  # type: ignore[union-attr]
    else:
        assert outcome["status"] == "rejected", outcome
        assert code in _codes(outcome)
        assert all(e["zh"] and e["en"] for e in outcome["errors"])
    [review] = _reviews(s)
    assert (review.status, review.reason, review.version) == before


def test_phones_cannot_create_reviews(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    _require_review(db_session, area)
    phone = _phone(client, "lead")
    phone.queue("review", "create", str(uuid.uuid4()), {"status": "approved"})
    [outcome] = phone.push()
    assert outcome["status"] == "rejected" and _codes(outcome) == ["op.not_allowed"]
    assert _reviews(db_session) == []


def test_approved_reviews_stay_out_of_a_first_sync(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    _require_review(s, area)
    phone = _phone(client, "coord")
    _register(phone, str(area.houses["A1"].id))
    phone.push()
    [review] = _reviews(s)
    review.status = "approved"
    s.commit()
    fresh = _phone(client, "lead")
    assert str(review.id) not in fresh.rows.get("review", {})
