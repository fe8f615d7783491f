"""Review (审核) in the console: the queue (pending first, filters), approving and returning
with a reason (CSRF, audited, scope), resubmitting, the committee setting, and the review
state on the house and person pages."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token, login, logout
from webapp.models import AuditEntry, Committee, Review
from webapp.base.timeutil import utcnow


def _review(s, area, key: str = "A1", kind: str = "registration", status: str = "pending",  # type: ignore[no-untyped-def]
            reason: str | None = None, age_days: int = 0) -> Review:
    person, house = area.persons[key], area.houses[key]
    review = Review(house_id=house.id, cell_id=house.cell_id, residency_id=person.residencies[0].id,
                    person_id=person.id, kind=kind, status=status, reason=reason,
                    submitted_by_id=area.users["coordinator"].id, created_at=utcnow() - timedelta(days=age_days))
    s.add(review)
    s.commit()
    return review


def _post(client, url: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf_token(client, "/reviews"), **data}, follow_redirects=True)


def _audit(s, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    s.rollback()
    return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_lead_approves_from_the_queue_audited(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    review = _review(s, area)
    login(client, "lead")
    page = client.get("/reviews").get_data(as_text=True)
    assert "王A1" in page and "待审核" in page and "新登记" in page
    response = _post(client, f"/reviews/{review.id}/approve", version=str(review.version))
    assert response.status_code == 200 and "审核通过" in response.get_data(as_text=True)
    s.rollback()
    review = s.get(Review, review.id)
    assert (review.status, review.decided_by_id) == ("approved", area.users["grid_lead"].id)
    assert review.decided_at is not None and review.changed_by_id == area.users["grid_lead"].id
    [entry] = _audit(s, "review_approved")
    assert (entry.user_id, entry.object_id, entry.detail["before"], entry.detail["after"]) == (
        area.users["grid_lead"].id, str(review.id), "pending", "approved")
    # The queue's default ("waiting") no longer lists it; "approved" does.
    assert "王A1" not in client.get("/reviews").get_data(as_text=True)
    assert "王A1" in client.get("/reviews?status=approved").get_data(as_text=True)


def test_return_needs_a_reason_then_reaches_house_and_person_pages(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    review = _review(s, area)
    login(client, "lead")
    refused = _post(client, f"/reviews/{review.id}/return", version=str(review.version), reason="   ")
    assert "退回时必须填写原因" in refused.get_data(as_text=True)
    s.rollback()
    assert s.get(Review, review.id).status == "pending"
    assert _audit(s, "review_returned") == []
    _post(client, f"/reviews/{review.id}/return", version=str(review.version), reason="身份证号与本人不符")
    s.rollback()
    review = s.get(Review, review.id)
    assert (review.status, review.reason, review.decided_by_id) == ("returned", "身份证号与本人不符", area.users["grid_lead"].id)
    [entry] = _audit(s, "review_returned")
    assert entry.detail["reason"] == "身份证号与本人不符"
    for url in (f"/houses/{area.houses['A1'].id}", f"/persons/{area.persons['A1'].id}"):
        page = client.get(url).get_data(as_text=True)
        assert "已退回" in page and "身份证号与本人不符" in page and "lead" in page, url
    # In English too.
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/reviews"), "next": "/reviews"})
    page = client.get(f"/houses/{area.houses['A1'].id}").get_data(as_text=True)
    assert "Returned" in page and "Registration" in page


def test_a_return_without_a_reason_is_refused_in_english_too(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    review = _review(db_session, area)
    login(client, "lead")
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/reviews"), "next": "/reviews"})
    page = _post(client, f"/reviews/{review.id}/return", version=str(review.version)).get_data(as_text=True)
    assert "a reason is required to return a review" in page


def test_coordinator_resubmits_but_cannot_decide(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    review = _review(s, area, status="returned", reason="缺少租赁合同")
    login(client, "coord")
    page = client.get("/reviews").get_data(as_text=True)
    assert "缺少租赁合同" in page and "Approve" not in page and "通过" not in page.split("审核通过")[0][-2:]
    assert client.post(f"/reviews/{review.id}/approve", data={"csrf_token": csrf_token(client, "/reviews"),
                                                              "version": str(review.version)}).status_code == 403
    _post(client, f"/reviews/{review.id}/resubmit", version=str(review.version))
    s.rollback()
    review = s.get(Review, review.id)
    assert (review.status, review.decided_by_id, review.decided_at) == ("pending", None, None)
    assert len(_audit(s, "review_resubmitted")) == 1
    # Resubmitting something pending is not a move the rules allow.
    page = _post(client, f"/reviews/{review.id}/resubmit", version=str(review.version)).get_data(as_text=True)
    assert "审核不能从" in page


def test_a_stale_form_changes_nothing(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    review = _review(s, area)
    login(client, "lead")
    page = _post(client, f"/reviews/{review.id}/approve", version=str(review.version + 1)).get_data(as_text=True)
    assert "meanwhile" in page or "同时" in page or "期间" in page
    s.rollback()
    assert s.get(Review, review.id).status == "pending"
    # A reason typed for a refused return is said again, to copy (it was lost).
    page = _post(client, f"/reviews/{review.id}/return", version=str(review.version + 1),
                 reason="证件照片与本人不符，请复核").get_data(as_text=True)
    assert "您填写的内容（未保存）：证件照片与本人不符，请复核" in page


def test_queue_order_filters_and_scope(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    old_returned = _review(s, area, "A1", kind="move_out", status="returned", reason="再核实", age_days=5)
    pending = _review(s, area, "A2", age_days=1)
    _review(s, area, "B1")
    login(client, "lead")
    page = client.get("/reviews").get_data(as_text=True)
    # Pending before returned, whatever their age; B1 is not the lead's.
    assert page.index("王A2") < page.index("王A1") and "王B1" not in page
    only_moves = client.get("/reviews?kind=move_out").get_data(as_text=True)
    assert "王A1" in only_moves and "王A2" not in only_moves
    by_cell = client.get(f"/reviews?cell={area.cells['A2'].id}").get_data(as_text=True)
    assert "王A2" in by_cell and "王A1" not in by_cell
    assert client.get(f"/reviews?cell={area.cells['B1'].id}").status_code == 404
    assert client.get("/reviews?status=bogus").status_code == 404
    assert client.get("/reviews?cell=not-a-uuid").status_code == 404
    # A review outside the lead's cells: 404, as for any record outside the area.
    b1 = s.scalar(select(Review).where(Review.house_id == area.houses["B1"].id))
    assert client.post(f"/reviews/{b1.id}/approve", data={"csrf_token": csrf_token(client, "/reviews"),
                                                         "version": "1"}).status_code == 404
    assert {old_returned.status, pending.status} == {"returned", "pending"}
    # The centre sees all three.
    logout(client)
    login(client, "centre")
    page = client.get("/reviews").get_data(as_text=True)
    assert all(name in page for name in ("王A1", "王A2", "王B1"))


def test_committee_switches_review_on_for_itself_audited(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    s = db_session
    com_a, com_b = area.committees["A"], area.committees["B"]
    login(client, "comm")
    page = client.get("/reviews").get_data(as_text=True)
    assert com_a.name in page and com_b.name not in page
    _post(client, f"/reviews/committees/{com_a.id}/setting", version=str(com_a.version), review_required="y")
    s.rollback()
    assert s.get(Committee, com_a.id).review_required is True
    [entry] = _audit(s, "review_setting")
    assert (entry.object_id, entry.detail) == (str(com_a.id), {"before": False, "after": True})
    # Another committee's setting is not theirs to change.
    response = client.post(f"/reviews/committees/{com_b.id}/setting",
                           data={"csrf_token": csrf_token(client, "/reviews"), "version": "1", "review_required": "y"})
    assert response.status_code == 404
    # Switched off again (an unchecked box sends nothing).
    _post(client, f"/reviews/committees/{com_a.id}/setting", version=str(s.get(Committee, com_a.id).version))
    s.rollback()
    assert s.get(Committee, com_a.id).review_required is False
    assert len(_audit(s, "review_setting")) == 2
    # A grid lead has no say.
    logout(client)
    login(client, "lead")
    assert client.post(f"/reviews/committees/{com_a.id}/setting",
                       data={"csrf_token": csrf_token(client, "/reviews"), "version": "1"}).status_code == 403


def test_actions_need_csrf(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    review = _review(db_session, area)
    login(client, "lead")
    assert client.post(f"/reviews/{review.id}/approve", data={"version": str(review.version)}).status_code == 400
    db_session.rollback()
    assert db_session.get(Review, review.id).status == "pending"


def test_unknown_review_is_404(client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    response = client.post(f"/reviews/{uuid.uuid4()}/approve", data={"csrf_token": csrf_token(client, "/reviews"),
                                                                     "version": "1"})
    assert response.status_code == 404


def test_reviews_waiting_too_long_count_as_open_work_in_grading(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from webapp.models import Cycle
    from webapp.oversight.grading import grade_cycle
    from webapp.oversight.grading.drill import drill
    from webapp.registry.rules import RuleSettings

    s = db_session
    today = date.today()
    cycle = Cycle(name="本周期", kind="month", starts_on=today - timedelta(days=20), ends_on=today + timedelta(days=10))
    s.add(cycle)
    s.commit()
    settings = RuleSettings(grade_backlog_penalty=1)
    before = {r.code: r.scored.counts["reviews_late"] for r in grade_cycle(s, cycle, today=today, settings=settings).rows}
    base = {r.code: r.scored.rates["backlog_per_100"]
            for r in grade_cycle(s, cycle, today=today, settings=settings).rows}
    late = _review(s, area, "A1")
    late.changed_at = utcnow() - timedelta(days=10)  # waiting ten days since its last move
    _review(s, area, "A2", status="returned", reason="再核实")  # returned today: shown, not late
    _review(s, area, "B1", status="approved")
    s.commit()
    rows = {r.code: r for r in grade_cycle(s, cycle, today=today, settings=settings).rows}
    a, b = rows[area.committees["A"].code], rows[area.committees["B"].code]
    assert before[a.code] == 0
    assert (a.scored.counts["reviews_late"], a.scored.counts["reviews_returned"]) == (1, 1)
    assert (b.scored.counts["reviews_late"], b.scored.counts["reviews_returned"]) == (0, 0)
    # One late review among A's houses adds to open work exactly as an open task would.
    houses = a.scored.counts["houses"]
    assert a.scored.rates["backlog_per_100"] == pytest.approx(base[a.code] + 100 / houses, abs=0.01)
    assert b.scored.rates["backlog_per_100"] == base[b.code]
    found = drill(s, "reviews", cycle, today=today, settings=settings,
                  cell_ids=frozenset({area.cells["A1"].id, area.cells["A2"].id}))
    assert [(fl.kind, fl.numbers["late"]) for fl in found] == [("pending", True), ("returned", False)]
    # The committee page and its drill-down show them.
    login(client, "comm")
    page = client.get(f"/reports/grading/committees/{area.committees['A'].id}?cycle={cycle.id}").get_data(as_text=True)
    assert "drill/reviews" in page
    drill_page = client.get(f"/reports/grading/committees/{area.committees['A'].id}/drill/reviews?cycle={cycle.id}")
    assert drill_page.status_code == 200 and "已 10 天" in drill_page.get_data(as_text=True)
