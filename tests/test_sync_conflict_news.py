"""The first page of each pull round tells the phone of its user's conflicts (sync/conflict_news.py):
open ones with the registry's value beside the phone's, decided ones with the decision per
field; nothing of cases held quietly for the centre, no values of records outside the cells,
masked values for a role that sees them masked. Both backends."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from sync.conflict_news import conflicts_for
from sync.pull import pull
from sync.resolve import Decision, open_case, resolve
from tests import factories as f
from tests.phones import Phone
from tests.plans import plan_of
from webapp.base.timeutil import utcnow
from webapp.models import Conflict


def _round(s: Session, phone: Phone, cursor: str | None = None) -> tuple[list[dict[str, Any]] | None, str, list[Any]]:
    """One whole round: the first page's conflicts, the cursor after it, and the later pages' keys."""
    first = pull(s, phone.device, cursor, limit=1)
    s.commit()
    later, cursor, more = [], first.cursor, first.more
    while more:
        page = pull(s, phone.device, cursor, limit=1)
        s.commit()
        later.append(page.to_wire().get("conflicts"))
        cursor, more = page.cursor, page.more
    return first.to_wire().get("conflicts"), cursor, later


def _by_id(news: list[dict[str, Any]] | None, conflict_id: uuid.UUID) -> dict[str, Any] | None:
    return next((n for n in news or [] if n["id"] == str(conflict_id)), None)


def _decide(s: Session, conflict_id: uuid.UUID, by: int, **choices: Decision) -> None:
    conflict = s.get(Conflict, conflict_id)
    assert conflict is not None
    case = open_case(s, conflict)
    resolve(s, case, choices, by, expected_version=case.target.version if case.target else None)
    s.commit()


def test_an_open_conflict_then_its_decision_reach_the_phone(db_session: Session, area: Any) -> None:
    s = db_session
    phone = Phone(s, area.users["coordinator"])
    house = area.houses["A1"]
    _, cursor, _ = _round(s, phone)
    house.note = "中心改过"
    s.commit()
    cid = phone.conflict("house", "update", house.id, base_version=1, fields={"note": "手机改的"}, base={"note": None})
    news, cursor, later = _round(s, phone, cursor)
    assert _by_id(news, cid) == {
        "id": str(cid), "kind": "field", "record_type": "house", "record_id": str(house.id),
        "mutation_id": _by_id(news, cid)["mutation_id"], "created_at": _by_id(news, cid)["created_at"],
        "resolved_at": None, "fields": {"note": {"registry": "中心改过", "device": "手机改的"}}, "decision": None}
    assert later and all(c is None for c in later)  # only the round's first page says it
    _decide(s, cid, area.users["centre"].id, note=Decision("edit", "两边都对"))
    news, cursor, _ = _round(s, phone, cursor)
    told = _by_id(news, cid)
    assert told is not None and told["resolved_at"] is not None
    assert told["decision"] == {"action": "update", "fields": {"note": {"choice": "edit", "value": "两边都对"}}}


def test_a_kept_value_and_a_taken_one(db_session: Session, area: Any) -> None:
    s = db_session
    phone = Phone(s, area.users["coordinator"])
    person = area.persons["A1"]
    person.set_phone("13700000000")
    person.note = "中心备注"
    s.commit()
    cid = phone.conflict("person", "update", person.id, base_version=1,
                         fields={"phone": "13911112222", "note": "门口备注"}, base={"phone": "13812345678", "note": None})
    _decide(s, cid, area.users["centre"].id, phone=Decision("keep"), note=Decision("take"))
    told = _by_id(_round(s, phone)[0], cid)
    assert told is not None
    assert told["fields"] == {"note": {"registry": "中心备注", "device": "门口备注"},
                              "phone": {"registry": "13700000000", "device": "13911112222"}}
    assert told["decision"]["fields"] == {"note": {"choice": "take", "value": "门口备注"}, "phone": {"choice": "keep"}}


def test_outside_the_cells_the_phone_learns_no_values(db_session: Session, area: Any) -> None:
    s = db_session
    phone = Phone(s, area.users["coordinator"])
    cid = phone.conflict("house", "update", area.houses["B1"].id, base_version=1, fields={"use": "rented"},
                         base={"use": "owner_occupied"})
    told = _by_id(_round(s, phone)[0], cid)
    assert told is not None and told["kind"] == "out_of_scope"
    assert told["fields"] == {} and told["decision"] is None


def test_cases_held_quietly_for_the_centre_are_not_told(db_session: Session, area: Any) -> None:
    s = db_session
    phone = Phone(s, area.users["coordinator"])
    number = area.persons["B1"].id_number  # lives in B1, outside the coordinator's cells
    person_id = uuid.uuid4()
    outcomes = phone.push(
        phone.mutation("person", "create", person_id, fields={"name": "新来的", "id_type": "resident", "id_number": number,
                                                               "category": "migrant"}),
        phone.mutation("residency", "create", fields={"person_id": str(person_id), "house_id": str(area.houses["A1"].id),
                                                      "start_date": "2026-11-01"}))
    assert [o["status"] for o in outcomes] == ["applied", "applied"]
    held = s.query(Conflict).filter(Conflict.kind == "identity_elsewhere").one()
    assert _by_id(_round(s, phone)[0], held.id) is None


def test_a_grid_lead_is_told_masked_values(db_session: Session, area: Any) -> None:
    s = db_session
    lead = Phone(s, area.users["grid_lead"])
    person = area.persons["A1"]  # phone 13812345678
    # An edit behind the registry's version of a field the lead sees masked: always the
    # centre's to decide (tests/test_push_masked_roles.py), and told back masked.
    outcome = lead.push(lead.mutation("person", "update", person.id, base_version=person.version + 1,
                                      fields={"phone": "13999998888"}, base={}))[0]
    assert outcome["status"] == "conflict" and outcome.get("conflict_id"), outcome
    told = _by_id(_round(s, lead)[0], uuid.UUID(outcome["conflict_id"]))
    assert told is not None and told["kind"] == "field"
    assert told["fields"]["phone"] == {"registry": "138****5678", "device": "139****8888", "masked": True}
    assert person.id_number not in str(told) and "13999998888" not in str(told)


def test_decided_long_ago_is_no_longer_told(db_session: Session, area: Any) -> None:
    from datetime import timedelta

    s = db_session
    phone = Phone(s, area.users["coordinator"])
    house = f.house(s, area.cells["A1"], note="旧")
    s.commit()
    house.note = "中心"
    s.commit()
    cid = phone.conflict("house", "update", house.id, base_version=1, fields={"note": "手机"}, base={"note": "旧"})
    _decide(s, cid, area.users["centre"].id, note=Decision("keep"))
    conflict = s.get(Conflict, cid)
    assert conflict is not None and conflict.resolved_at is not None
    conflict.resolved_at -= timedelta(days=31)
    s.commit()
    assert _by_id(_round(s, phone)[0], cid) is None


def test_a_users_conflicts_are_found_by_index_not_by_walking_all(db_session: Session, area: Any, backend: str) -> None:
    """Every pull asks for them: without an index on user_id, the query walked every conflict
    the district ever recorded, a cost growing with the registry's age."""
    s = db_session
    phone = Phone(s, area.users["coordinator"])
    others = area.users["centre"].id
    now = utcnow()
    s.execute(insert(Conflict), [{"id": uuid.uuid4(), "kind": "field", "record_type": "house", "record_id": uuid.uuid4(),
                                  "user_id": others, "created_at": now - timedelta(minutes=n)} for n in range(3000)])
    s.commit()
    if backend == "postgresql":
        s.execute(text("ANALYZE conflict"))
    plan = plan_of(s, "conflict", lambda: conflicts_for(s, phone.device, now))
    assert "ix_conflict_user_created" in plan, plan


def test_a_units_contact_persons_never_reach_the_phone_by_a_notice(db_session: Session, area: Any) -> None:
    # The pull leaves a unit's contacts (names, mobiles) off phones; a notice of the phone's
    # conflicting edit of them carried the registry's whole list.
    from webapp.models import Unit

    s = db_session
    unit = Unit(name="甲公司", house_id=area.houses["A1"].id, kind="enterprise",
                contacts=[{"name": "联系人李四", "phone": "13911110000", "role": "经理"}])
    s.add(unit)
    s.commit()
    phone = Phone(s, area.users["coordinator"])
    cid = phone.conflict("unit", "update", unit.id, base_version=unit.version + 1,
                         fields={"contacts": [{"name": "王五", "phone": "13900000000", "role": "前台"}],
                                 "name": "甲公司（新）"}, base={})
    told = _by_id(_round(s, phone)[0], cid)
    assert told is not None and told["kind"] == "field"
    assert "contacts" not in told["fields"] and "13911110000" not in str(told) and "联系人李四" not in str(told)
    assert told["fields"]["name"]["device"] == "甲公司（新）"  # the rest is told as ever


def test_a_decision_about_a_resident_who_moved_away_carries_no_values(db_session: Session, area: Any) -> None:
    # Judged by the cell the conflict found the person in, the centre's decision (a mobile it
    # chose) still reached the old cell's phone after they moved to another committee.
    from datetime import date

    s = db_session
    person = area.persons["A1"]
    phone = Phone(s, area.users["coordinator"])
    _, cursor, _ = _round(s, phone)
    person.set_phone("13700000001")
    s.commit()
    cid = phone.conflict("person", "update", person.id, base_version=1, fields={"phone": "13700000002"},
                         base={"phone": "13812345678"})
    stay = person.current_residency()
    assert stay is not None
    stay.end_date = date(2026, 11, 30)
    f.residency(s, person, area.houses["B1"], start_date=date(2026, 12, 1))
    s.commit()
    _, cursor, _ = _round(s, phone, cursor)
    _decide(s, cid, area.users["centre"].id, phone=Decision("edit", "13711112222"))
    told = _by_id(_round(s, phone, cursor)[0], cid)
    assert told is not None and told["resolved_at"] is not None
    assert told["fields"] == {} and told["decision"] == {"action": "update", "fields": {"phone": {"choice": "edit"}}}
