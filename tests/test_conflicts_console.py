"""The conflict queue: conflicts made by real pushes, decided per field, merges, scope."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import csrf_token, login, valid_id
from tests.phones import Phone
from webapp.models import AuditEntry, Conflict, House, HouseCode, Person, RecordAlias, Residency, Review, Room, Visit


@pytest.fixture
def phone(area, db_session: Session) -> Phone:  # type: ignore[no-untyped-def]
    return Phone(db_session, area.users["coordinator"])


def field_conflict(area, db_session: Session, phone: Phone, note: str = "手机改的") -> uuid.UUID:  # type: ignore[no-untyped-def]
    """The centre changed house A1's note while the coordinator's phone changed it offline."""
    house = area.houses["A1"]
    house.note = "中心改过"
    db_session.commit()
    return phone.conflict("house", "update", house.id, base_version=1, fields={"note": note},
                          base={"note": None})


def out_of_scope(area, phone: Phone, key: str = "B1") -> uuid.UUID:  # type: ignore[no-untyped-def]
    return phone.conflict("house", "update", area.houses[key].id, base_version=1,
                          fields={"use": "rented"}, base={"use": "owner_occupied"})


def resolve(client, conflict_id: uuid.UUID, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/conflicts")
    return client.post(f"/conflicts/{conflict_id}/resolve", data={"csrf_token": token, **data})


def _conflict(db_session: Session, conflict_id: uuid.UUID) -> Conflict:
    db_session.rollback()
    found = db_session.get(Conflict, conflict_id)
    assert found is not None
    return found


def _audits(db_session: Session, action: str) -> list[AuditEntry]:
    return list(db_session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.mark.parametrize(("choice", "typed", "expected"), [
    ("keep", "", "中心改过"), ("take", "", "手机改的"), ("edit", "  两边都对  ", "两边都对"),
])
def test_resolve_one_field(client, area, db_session, phone, choice: str, typed: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    cid = field_conflict(area, db_session, phone)
    login(client, "centre")
    page = client.get(f"/conflicts/{cid}").get_data(as_text=True)
    assert "中心改过" in page and "手机改的" in page and "coord" in page
    response = resolve(client, cid, version="2", choice__note=choice, value__note=typed)
    assert response.status_code == 302, response.get_data(as_text=True)
    conflict = _conflict(db_session, cid)
    house = db_session.get(House, area.houses["A1"].id)
    assert house is not None and house.note == expected
    # Even "keep" is a new version: the phone still shows its own value until it pulls one.
    assert house.version == 3 and house.seq is not None
    assert conflict.resolved_at is not None and conflict.resolved_by_id == area.users["centre"].id
    assert conflict.resolution["fields"]["note"]["choice"] == choice
    [entry] = _audits(db_session, "resolve_conflict")
    assert entry.user_id == area.users["centre"].id and entry.object_id == str(cid)
    assert entry.detail["fields"] == {"note": choice} and entry.detail["version"] == 3


def test_the_decision_reaches_the_phone(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    from sync.pull import pull

    first = pull(db_session, phone.device, None)
    db_session.commit()
    cid = field_conflict(area, db_session, phone)
    login(client, "centre")
    resolve(client, cid, version="2", choice__note="keep")
    db_session.rollback()
    cursor = first.cursor
    changes: list[dict[str, Any]] = []
    while True:
        page = pull(db_session, phone.device, cursor)
        db_session.commit()
        changes += page.changes.get("house", [])
        cursor = page.cursor
        if not page.more:
            break
    assert [(h["id"], h["note"], h["version"]) for h in changes][-1] == (str(area.houses["A1"].id), "中心改过", 3)


def test_typed_values_are_checked_like_a_push(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    person.phone = "13700000000"
    db_session.commit()
    cid = phone.conflict("person", "update", person.id, base_version=1, fields={"phone": "13900001111"},
                         base={"phone": "13812345678"})
    login(client, "centre")
    bad = resolve(client, cid, version=str(person.version), choice__phone="edit", value__phone="12345")
    assert bad.status_code == 422
    assert "手机号" in bad.get_data(as_text=True)  # at the field, in the user's language (zh by default)
    assert _conflict(db_session, cid).resolved_at is None
    good = resolve(client, cid, version=str(person.version), choice__phone="edit", value__phone="139 0000 2222")
    assert good.status_code == 302
    db_session.rollback()
    saved = db_session.get(Person, person.id)
    assert saved is not None and saved.phone == "13900002222" and saved.phone_rev == "22220000931"


def test_a_stale_form_is_refused(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    cid = field_conflict(area, db_session, phone)
    login(client, "centre")
    assert resolve(client, cid, version="1", choice__note="take").status_code == 409
    assert _conflict(db_session, cid).resolved_at is None


@pytest.mark.parametrize("version", ["²", "9" * 5000, "-1", "x"], ids=["superscript", "5000-digits", "negative", "letter"])
def test_a_form_with_a_version_it_was_not_given_is_stale(client, area, db_session, phone, version: str) -> None:  # type: ignore[no-untyped-def]
    """The hidden version as a tampered form sends it: "²" (a digit to str.isdigit, not to
    int()) and 5,000 digits were a 500; "-1" and "x" skipped the check and resolved."""
    cid = field_conflict(area, db_session, phone)
    login(client, "centre")
    assert resolve(client, cid, version=version, choice__note="take").status_code == 409
    assert _conflict(db_session, cid).resolved_at is None


def test_committee_resolves_its_own_area_only(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    mine = field_conflict(area, db_session, phone)
    theirs = out_of_scope(area, phone, "B1")
    login(client, "comm")
    listing = client.get("/conflicts").get_data(as_text=True)
    assert str(mine) in listing and str(theirs) not in listing
    assert client.get(f"/conflicts/{theirs}").status_code == 404
    assert resolve(client, theirs, version="1", choice__use="take").status_code == 404
    assert _conflict(db_session, theirs).resolved_at is None
    assert resolve(client, mine, version="2", choice__note="take").status_code == 302


@pytest.mark.parametrize(("username", "status"), [("police", 403), ("coord", 403), ("lead", 302)])
def test_who_may_resolve(client, area, db_session, phone, username: str, status: int) -> None:  # type: ignore[no-untyped-def]
    cid = field_conflict(area, db_session, phone)
    login(client, username)
    assert client.get(f"/conflicts/{cid}").status_code == 200
    assert resolve(client, cid, version="2", choice__note="take").status_code == status


def test_filters(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    field_id = field_conflict(area, db_session, phone)
    scope_id = out_of_scope(area, phone, "B1")
    old = db_session.get(Conflict, scope_id)
    assert old is not None
    old.created_at = old.created_at - timedelta(days=10)
    db_session.commit()
    login(client, "centre")

    def listed(query: str) -> set[str]:
        page = client.get(f"/conflicts?{query}").get_data(as_text=True)
        return {str(c) for c in (field_id, scope_id) if str(c) in page}

    assert listed("") == {str(field_id), str(scope_id)}
    assert listed("kind=out_of_scope") == {str(scope_id)}
    assert listed(f"cell={area.cells['A1'].id}") == {str(field_id)}
    assert listed(f"committee={area.committees['B'].id}") == {str(scope_id)}
    assert listed("older=5") == {str(scope_id)}
    assert listed("status=resolved") == set()


def test_out_of_scope_creation_taken_by_the_centre(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    visit = phone.mutation("visit", "create", fields={"house_id": str(area.houses["B1"].id),
                                                      "visited_at": "2026-11-26T08:00:00Z", "outcome": "verified"})
    cid = uuid.UUID(phone.push(visit)[0]["conflict_id"])
    login(client, "centre")
    fields = {f"choice__{n}": "take" for n in ("house_id", "visited_at", "outcome")}
    assert resolve(client, cid, version="", **fields).status_code == 302
    db_session.rollback()
    made = db_session.get(Visit, uuid.UUID(visit["record_id"]))
    assert made is not None and made.user_id == area.users["coordinator"].id and made.version == 1


def test_overlapping_residency_kept_as_a_past_stay(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]  # living in A1 since 2025-01-01
    other = f.house(db_session, area.cells["A1"])
    db_session.commit()
    cid = phone.conflict("residency", "create", fields={"person_id": str(person.id), "start_date": "2024-06-01",
                                                        "house_id": str(other.id)})
    assert _conflict(db_session, cid).kind == "overlapping_residency"
    login(client, "centre")
    take_all = {f"choice__{n}": "take" for n in ("house_id", "person_id", "start_date")}
    refused = resolve(client, cid, version="", **take_all)
    assert refused.status_code == 422 and "迁出日期" in refused.get_data(as_text=True)
    rid = _conflict(db_session, cid).record_id
    assert db_session.get(Residency, rid) is None
    # The centre records it as a past stay: it ended before the current one began.
    ok = resolve(client, cid, version="", choice__end_date="edit", value__end_date="2024-12-31", **take_all)
    assert ok.status_code == 302, ok.get_data(as_text=True)
    db_session.rollback()
    made = db_session.get(Residency, rid)
    assert made is not None and (made.house_id, made.end_date) == (other.id, date(2024, 12, 31))
    current = db_session.scalars(select(Residency).where(Residency.person_id == person.id,
                                                         Residency.end_date.is_(None))).all()
    assert [r.house_id for r in current] == [area.houses["A1"].id]


def test_merge_two_persons(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    keep, lose = area.persons["A1"], area.persons["A2"]
    login(client, "comm")
    preview = client.get(f"/conflicts/combine?record_type=person&survivor={keep.id}&loser={lose.id}")
    assert preview.status_code == 200 and keep.name in preview.get_data(as_text=True)
    token = csrf_token(client, "/conflicts/combine")
    response = client.post("/conflicts/combine", data={"csrf_token": token, "record_type": "person",
                                                     "survivor": str(keep.id), "loser": str(lose.id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.rollback()
    residencies = db_session.scalars(select(Residency).where(Residency.person_id == keep.id)).all()
    assert {r.house_id for r in residencies} == {area.houses["A1"].id, area.houses["A2"].id}
    assert sum(1 for r in residencies if r.is_open) == 1  # one open residency per person
    loser = db_session.get(Person, lose.id)
    assert loser is not None and loser.deleted_at is not None
    alias = db_session.get(RecordAlias, lose.id)
    assert alias is not None and alias.canonical_id == keep.id
    assert _audits(db_session, "merge_records")[0].detail["merged"] == str(lose.id)


def test_a_phone_naming_the_merged_person_reaches_the_survivor(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    keep = area.persons["A1"]
    lose = f.person(db_session, name="王一", id_number=valid_id("31011719900202123"))
    f.residency(db_session, lose, f.house(db_session, area.cells["A1"]), start_date=date(2026, 1, 1))
    db_session.commit()
    login(client, "centre")
    token = csrf_token(client, "/conflicts/combine")
    client.post("/conflicts/combine", data={"csrf_token": token, "record_type": "person",
                                          "survivor": keep.id_number, "loser": str(lose.id)})
    db_session.rollback()
    assert db_session.get(Person, lose.id).deleted_at is not None  # type: ignore[union-attr]
    survivor = db_session.get(Person, keep.id)
    assert survivor is not None
    outcome = phone.push(phone.mutation("person", "update", lose.id, base_version=survivor.version,
                                        fields={"note": "门口核实"}, base={"note": None}))[0]
    assert outcome["status"] in ("applied", "merged"), outcome
    db_session.refresh(survivor)
    assert survivor.note == "门口核实"


def test_merge_two_houses_moves_what_hangs_off_them(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    keep, lose = area.houses["A2"], area.houses["A1"]
    waiting = Review(house_id=lose.id, cell_id=lose.cell_id, residency_id=area.persons["A1"].residencies[0].id,
                     person_id=area.persons["A1"].id, kind="registration", status="pending",
                     submitted_by_id=area.users["coordinator"].id)
    db_session.add(waiting)
    db_session.commit()
    phone.push(phone.mutation("visit", "create", fields={"house_id": str(lose.id), "visited_at": "2026-11-26T08:00:00Z",
                                                         "outcome": "verified"}))
    login(client, "centre")
    token = csrf_token(client, "/conflicts/combine")
    response = client.post("/conflicts/combine", data={"csrf_token": token, "record_type": "house",
                                                     "survivor": str(keep.id), "loser": "a1code0001"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.rollback()
    assert db_session.scalar(select(HouseCode.house_id).where(HouseCode.code == "A1CODE0001")) == keep.id
    assert db_session.scalar(select(func.count()).select_from(Visit).where(Visit.house_id == keep.id)) == 1
    assert db_session.scalar(select(func.count()).select_from(Residency).where(Residency.house_id == keep.id)) == 2
    assert db_session.get(House, lose.id).deleted_at is not None  # type: ignore[union-attr]
    assert db_session.get(RecordAlias, lose.id).canonical_id == keep.id  # type: ignore[union-attr]
    # Its occupant now lives in another cell: a new version brings them to that cell's phones.
    assert db_session.get(Person, area.persons["A1"].id).version == 2  # type: ignore[union-attr]
    # A review still waiting follows its house to the survivor's cell (and its lead and phones).
    db_session.refresh(waiting)
    assert (waiting.house_id, waiting.cell_id, waiting.version) == (keep.id, keep.cell_id, 2)


def test_a_combine_closes_only_the_duplicate_case_it_was_made_from(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    # Any conflict named in the form was closed as "merged": a field conflict's phone values
    # were dropped with no one deciding them.
    person, outside = area.persons["A1"], area.persons["B1"]
    person.phone = "13700000000"
    db_session.commit()
    field = phone.conflict("person", "update", person.id, base_version=1, fields={"phone": "13900001111"},
                           base={"phone": "13812345678"})
    held = phone.mutation("person", "create", fields={"name": "王外", "id_number": outside.id_number})
    assert phone.push(held)[0]["status"] == "applied"  # answered as for a free number
    case = db_session.scalars(select(Conflict).where(Conflict.kind == "identity_elsewhere")).one()
    login(client, "centre")
    token = csrf_token(client, "/conflicts/combine")
    unrelated = client.post("/conflicts/combine", data={
        "csrf_token": token, "record_type": "person", "survivor": str(person.id),
        "loser": str(area.persons["A2"].id), "conflict_id": str(field)})
    assert unrelated.status_code == 302
    settled = client.post("/conflicts/combine", data={
        "csrf_token": token, "record_type": "person", "survivor": str(outside.id),
        "loser": str(case.record_id), "conflict_id": str(case.id)})
    assert settled.status_code == 302
    db_session.rollback()
    assert _conflict(db_session, field).resolved_at is None
    closed = _conflict(db_session, case.id)
    assert closed.resolved_at is not None and closed.resolution["target_id"] == str(outside.id)


def test_finding_a_person_to_combine_by_number_is_audited(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    # A grid lead sees numbers masked; the combine page, given a full number, shows whose it is.
    person = area.persons["A1"]
    login(client, "lead")
    page = client.get("/conflicts/combine", query_string={"record_type": "person", "survivor": person.id_number})
    assert page.status_code == 200 and person.name in page.get_data(as_text=True)
    db_session.rollback()
    row = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "search")).one()
    assert row.detail["persons"] == [str(person.id)] and row.detail["door"] == "merge"
    assert person.id_number not in str(row.detail)


def test_merge_refuses_records_outside_the_area(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    token = csrf_token(client, "/conflicts/combine")
    response = client.post("/conflicts/combine", data={"csrf_token": token, "record_type": "person",
                                                     "survivor": str(area.persons["A1"].id),
                                                     "loser": str(area.persons["B1"].id)})
    assert response.status_code == 404
    db_session.rollback()
    assert db_session.get(Person, area.persons["B1"].id).deleted_at is None  # type: ignore[union-attr]


def test_duplicate_person_resolved_on_the_record_it_became(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    twin = phone.mutation("person", "create", fields={"name": "王小A", "id_number": person.id_number})
    outcome = phone.push(twin)[0]
    assert outcome["status"] == "merged" and outcome["canonical_id"] == str(person.id)
    cid = uuid.UUID(outcome["conflict_id"])
    login(client, "centre")
    page = client.get(f"/conflicts/{cid}").get_data(as_text=True)
    assert "王小A" in page and f"survivor={person.id}" in page
    assert resolve(client, cid, version=str(person.version), choice__name="take").status_code == 302
    db_session.rollback()
    assert db_session.get(Person, person.id).name == "王小A"  # type: ignore[union-attr]


def test_police_see_masked_numbers(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    new_number = valid_id("11010119800101123")
    person.note = "x"
    db_session.commit()
    cid = phone.conflict("person", "update", person.id, base_version=1,
                         fields={"id_number": new_number, "note": "y"}, base={"id_number": "0", "note": None})
    login(client, "police")
    page = client.get(f"/conflicts/{cid}").get_data(as_text=True)
    assert new_number not in page and 'name="choice__' not in page


def test_a_delete_from_outside_the_cells(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    residency = db_session.scalar(select(Residency).where(Residency.house_id == area.houses["B1"].id))
    version = residency.version
    cid = phone.conflict("residency", "delete", residency.id, base_version=version)
    login(client, "centre")
    assert 'name="choice___delete"' in client.get(f"/conflicts/{cid}").get_data(as_text=True)
    assert resolve(client, cid, version=str(version), choice___delete="take").status_code == 302
    db_session.rollback()
    gone = db_session.get(Residency, residency.id)
    assert gone is not None and gone.deleted_at is not None and gone.version == version + 1


def test_an_edit_of_a_deleted_record_needs_a_restore(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    residency = db_session.scalar(select(Residency).where(Residency.house_id == area.houses["A1"].id))
    residency.tombstone(None)
    db_session.commit()
    cid = phone.conflict("residency", "update", residency.id, base_version=1, fields={"relation": "owner"},
                         base={"relation": "tenant"})
    assert _conflict(db_session, cid).kind == "edit_deleted"
    login(client, "centre")
    version = str(db_session.get(Residency, residency.id).version)  # type: ignore[union-attr]
    refused = resolve(client, cid, version=version, choice__relation="take")
    assert refused.status_code == 422 and "恢复" in refused.get_data(as_text=True)
    assert resolve(client, cid, version=version, choice__relation="take", restore="y").status_code == 302
    db_session.rollback()
    back = db_session.get(Residency, residency.id)
    assert back is not None and back.deleted_at is None and back.relation == "owner"


@pytest.mark.parametrize("required", [True, False])
def test_a_registration_the_centre_takes_goes_to_review(client, area, db_session, phone, required: bool) -> None:  # type: ignore[no-untyped-def]
    """Out of the coordinator's cells, the registration waits as a conflict; once the centre
    takes it, the house's committee reviews it as if the push had applied it."""
    area.committees["B"].review_required = required
    newcomer = f.person(db_session, name="新来的")
    db_session.commit()
    cid = phone.conflict("residency", "create", fields={"person_id": str(newcomer.id), "start_date": "2026-11-20",
                                                        "house_id": str(area.houses["B1"].id), "relation": "tenant"})
    login(client, "centre")
    take = {f"choice__{n}": "take" for n in ("house_id", "person_id", "start_date", "relation")}
    assert resolve(client, cid, version="", **take).status_code == 302
    db_session.rollback()
    rid = _conflict(db_session, cid).record_id
    reviews = db_session.scalars(select(Review).where(Review.residency_id == rid)).all()
    if not required:
        assert reviews == []
        return
    assert [(r.kind, r.status, r.submitted_by_id, r.cell_id) for r in reviews] == [
        ("registration", "pending", area.users["coordinator"].id, area.cells["B1"].id)]


def test_a_move_out_the_centre_takes_goes_to_review(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    area.committees["B"].review_required = True
    residency = area.persons["B1"].residencies[0]
    db_session.commit()
    cid = phone.conflict("residency", "update", residency.id, base_version=residency.version,
                         fields={"end_date": "2026-11-25", "end_reason": "搬走"},
                         base={"end_date": None, "end_reason": None})
    login(client, "centre")
    # Keeping the phone's values writes nothing the coordinator entered: no review.
    assert resolve(client, cid, version=str(residency.version), choice__end_date="keep",
                   choice__end_reason="take").status_code == 302
    db_session.rollback()
    assert db_session.scalars(select(Review).where(Review.residency_id == residency.id)).all() == []

    again = phone.conflict("residency", "update", residency.id, base_version=residency.version,
                           fields={"end_date": "2026-11-25"}, base={"end_date": None})
    version = str(db_session.get(Residency, residency.id).version)  # type: ignore[union-attr]
    assert resolve(client, again, version=version, choice__end_date="take").status_code == 302
    db_session.rollback()
    reviews = db_session.scalars(select(Review).where(Review.residency_id == residency.id)).all()
    assert [(r.kind, r.status, r.submitted_by_id) for r in reviews] == [
        ("move_out", "pending", area.users["coordinator"].id)]


def test_the_old_merge_address_leads_to_the_combine_page(client, area) -> None:  # type: ignore[no-untyped-def]
    """/conflicts/merge was the page's name before "combine" took it (docs/conventions.md):
    bookmarks and forms opened before the rename still arrive, a POST as a POST (308)."""
    login(client, "centre")
    old = client.get("/conflicts/merge?record_type=house&survivor=x")
    assert old.status_code == 308 and old.headers["Location"].endswith("/conflicts/combine?record_type=house&survivor=x")
    token = csrf_token(client, "/conflicts/combine")
    posted = client.post("/conflicts/merge", data={"csrf_token": token, "record_type": "person"})
    assert posted.status_code == 308 and posted.headers["Location"].endswith("/conflicts/combine")
    assert client.get(old.headers["Location"]).status_code == 200


def test_a_stay_taken_by_the_centre_keeps_its_room_in_its_house(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    """A stay at a house outside the phone's cells is held for the centre before any other check
    (out_of_scope): naming a room of another house, taking it was the one door left to a stay
    whose room is elsewhere (a push refuses it: residency.room_house)."""
    room = Room(house_id=area.houses["A1"].id, name="主卧", kind="bedroom")
    db_session.add(room)
    db_session.commit()
    cid = phone.conflict("residency", "create", fields={"person_id": str(area.persons["B1"].id), "start_date": "2026-11-20",
                                                        "house_id": str(area.houses["B1"].id), "room_id": str(room.id)})
    assert _conflict(db_session, cid).kind == "out_of_scope"
    login(client, "centre")
    take_all = {f"choice__{n}": "take" for n in ("house_id", "person_id", "start_date", "room_id")}
    refused = resolve(client, cid, version="", **take_all)
    assert refused.status_code == 422 and "所选房间不在这处房屋" in refused.get_data(as_text=True)
    assert db_session.get(Residency, _conflict(db_session, cid).record_id) is None
