"""The change log: every write path leaves a version of each person, house and unit it wrote,
with who, when and its door; the history reads them back old → new, masked per role; the
PIPL purge erases them."""
from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import csrf_token, login, valid_id
from tests.phones import Phone
from webapp.models import House, Person, RecordVersion, Unit
from webapp.registry import changelog, versions
from webapp.registry.retention import purge


def _versions(db_session: Session, record_id: uuid.UUID) -> list[RecordVersion]:
    db_session.rollback()
    return list(db_session.scalars(select(RecordVersion).where(RecordVersion.record_id == record_id)
                                   .order_by(RecordVersion.version, RecordVersion.id)))


def _values(row: RecordVersion) -> dict:
    out = changelog.values(row.record_type, row.snapshot)
    assert out is not None
    return out


def test_a_plain_session_records_every_written_row_with_its_values(db_session: Session) -> None:
    cell = f.cell(db_session)
    house = f.house(db_session, cell, lon=121.5, lat=31.1)
    person = f.person(db_session, name="张三", id_number="11010519491231002X", phone="13812345678",
                      permit_expiry=date(2027, 1, 31))
    unit = Unit(name="小店", house_id=house.id, contacts=[{"name": "李四", "phone": "13900001111"}])
    db_session.add(unit)
    changelog.set_door(db_session, "cli", "test")
    db_session.commit()
    [p] = _versions(db_session, person.id)
    assert (p.record_type, p.version, p.door, p.door_ref, p.changed_by_id) == ("person", 1, "cli", "test", None)
    values = _values(p)
    # Every value comes back as its column's type, on both backends (SQLite keeps hex uuids, 0/1, text times).
    assert values["name"] == "张三" and values["id_number"] == "11010519491231002X"
    assert values["birth_date"] == date(1949, 12, 31) and values["permit_expiry"] == date(2027, 1, 31)
    assert values["deleted_at"] is None and "id_rev" not in values and "seq" not in values
    [h] = _versions(db_session, house.id)
    hv = _values(h)
    assert hv["cell_id"] == cell.id and hv["cell_manual"] is False and hv["lon"] == 121.5
    [u] = _versions(db_session, unit.id)
    assert _values(u)["contacts"] == [{"name": "李四", "phone": "13900001111"}]


def test_unchanged_commits_and_other_tables_write_no_version(db_session: Session) -> None:
    person = f.person(db_session, name="张三")
    db_session.commit()
    before = db_session.scalar(select(func.count()).select_from(RecordVersion))
    db_session.commit()  # nothing written
    f.committee(db_session)  # a synced table that is not versioned
    db_session.commit()
    db_session.refresh(person)
    person.name = "张三"  # not a change
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(RecordVersion)) == before == 1


def test_history_shows_old_to_new_masked_per_role(db_session: Session, area) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    person.set_phone("13900002222")
    person.note = "门口有狗"
    person.changed_by_id = area.users["centre"].id
    db_session.commit()
    centre = versions.history(db_session, "person", person.id, "centre")
    assert [v.kind for v in centre] == ["changed", "created"]
    latest = {c.field: c for c in centre[0].changes}
    assert set(latest) == {"phone", "note"}
    assert (latest["phone"].old, latest["phone"].new) == ("13812345678", "13900002222")
    assert centre[0].changed_by is not None and centre[0].changed_by.username == "centre"
    lead = {c.field: c for c in versions.history(db_session, "person", person.id, "grid_lead")[0].changes}
    assert (lead["phone"].old, lead["phone"].new) == ("138****5678", "139****2222")
    police = {c.field: c for c in versions.history(db_session, "person", person.id, "police")[0].changes}
    # Hidden from the police: not even that it changed (tests/test_hidden_value_oracle.py).
    assert set(police) == {"phone"}
    created = {c.field: c for c in versions.history(db_session, "person", person.id, "grid_lead")[-1].changes}
    assert created["id_number"].new == "110***********002X" and created["birth_date"].new == "1949"


def test_console_edit_is_a_console_version_by_its_user(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    house = area.houses["A1"]
    login(client, "coord")
    token = csrf_token(client, f"/houses/{house.id}/edit")
    response = client.post(f"/houses/{house.id}/edit", data={
        "csrf_token": token, "version": str(house.version), "road": house.road, "number": house.number,
        "building": "2", "use": "rented", "room": "", "unit": "", "floor": "", "floor_area": "",
        "living_area": "", "lon": "", "lat": "", "note": ""})
    assert response.status_code == 302
    last = _versions(db_session, house.id)[-1]
    assert (last.door, last.door_ref, last.changed_by_id) == ("console", "console.edit_house", area.users["coordinator"].id)
    assert _values(last)["use"] == "rented" and _values(last)["building"] == "2"


def test_a_push_names_the_phone(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    phone = Phone(db_session, area.users["coordinator"], "华为 P40")
    person = area.persons["A1"]
    body = {"protocol": 1, "app_version": "0.3.0", "clock": "2026-11-26T08:00:00Z", "mutations": [
        phone.mutation("person", "update", person.id, base_version=person.version, fields={"phone": "13700001111"},
                       base={"phone": "13812345678"})]}
    response = client.post("/api/sync/push", json=body, headers={"Authorization": f"Bearer {phone.token}"})
    assert response.status_code == 200 and response.get_json()["outcomes"][0]["status"] == "applied", response.get_json()
    last = _versions(db_session, person.id)[-1]
    assert (last.door, last.door_ref) == ("phone", str(phone.device.id))
    assert last.changed_by_id == area.users["coordinator"].id and _values(last)["phone"] == "13700001111"
    [v] = [v for v in versions.history(db_session, "person", person.id, "centre") if v.door == "phone"]
    assert v.device is not None and v.device.label == "华为 P40"


def test_a_push_by_copy_is_recorded_too(db_session: Session, area) -> None:  # type: ignore[no-untyped-def]
    """New rows of a push go in by COPY on PostgreSQL, past the ORM: the log still has them."""
    phone = Phone(db_session, area.users["coordinator"])
    new_id = uuid.uuid4()
    [outcome] = phone.push(phone.mutation("person", "create", new_id, fields={
        "name": "新来的", "id_type": "resident", "id_number": valid_id("31011719950505123"), "category": "migrant"}))
    assert outcome["status"] == "applied", outcome
    [row] = _versions(db_session, new_id)
    assert row.version == 1 and _values(row)["name"] == "新来的"


def test_import_merge_and_resolution_are_their_doors(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    # The police extract's import.
    csv = "证件类型,证件号码,姓名,手机,人员类别\n居民身份证,{n},赵六,13800000009,来沪\n".format(
        n=valid_id("31011719900315021")).encode("utf-8-sig")
    token = csrf_token(client, "/extract/")
    client.post("/extract/import", data={"csrf_token": token, "persons": (io.BytesIO(csv), "p.csv")},
                content_type="multipart/form-data")
    db_session.rollback()
    imported = db_session.scalar(select(Person).where(Person.name == "赵六"))
    assert imported is not None
    assert [(v.door, v.door_ref) for v in _versions(db_session, imported.id)] == [("import", "extract.upload")]
    # A merge of two persons: the survivor's and the loser's versions.
    keep, lose = area.persons["A1"], area.persons["A2"]
    token = csrf_token(client, "/conflicts/combine")
    assert client.post("/conflicts/combine", data={"csrf_token": token, "record_type": "person", "survivor": str(keep.id),
                                                 "loser": str(lose.id)}).status_code == 302
    assert _versions(db_session, lose.id)[-1].door == "merge"
    assert _values(_versions(db_session, lose.id)[-1])["deleted_at"] is not None
    assert [v.kind for v in versions.history(db_session, "person", lose.id, "centre")][0] == "deleted"
    # A conflict's resolution names the conflict.
    house = area.houses["A1"]
    house.note = "中心改过"
    db_session.commit()
    phone = Phone(db_session, area.users["coordinator"])
    cid = phone.conflict("house", "update", house.id, base_version=1, fields={"note": "手机改的"}, base={"note": None})
    token = csrf_token(client, "/conflicts")
    assert client.post(f"/conflicts/{cid}/resolve", data={"csrf_token": token, "version": "2",
                                                          "choice__note": "take"}).status_code == 302
    last = _versions(db_session, house.id)[-1]
    assert (last.door, last.door_ref, _values(last)["note"]) == ("conflict", str(cid), "手机改的")


def test_the_purge_erases_the_versions_of_what_it_purges(db_session: Session, area) -> None:  # type: ignore[no-untyped-def]
    gone, kept = area.persons["A2"], area.persons["A1"]
    gone.tombstone(None)
    db_session.commit()
    assert len(_versions(db_session, gone.id)) == 2
    purge(db_session, before=datetime.now(timezone.utc) + timedelta(days=1))
    db_session.commit()
    rows = _versions(db_session, gone.id)
    assert len(rows) == 3
    # Every version before the purge lost its values; the purge's own holds no personal field.
    assert all(r.snapshot is None and r.erased_at is not None for r in rows[:2])
    last = _values(rows[2])
    assert last["name"] is None and last["id_number"] is None and last["phone"] is None
    assert rows[2].changed_by_id is None  # the purge, not the last editor
    assert all(r.snapshot is not None for r in _versions(db_session, kept.id))
    assert [v.kind for v in versions.history(db_session, "person", gone.id, "centre")][-2:] == ["erased", "erased"]


def test_baseline_takes_every_row_as_it_is(db_session: Session, area) -> None:  # type: ignore[no-untyped-def]
    """The migration's first versions: read the columns the database has (both backends)."""
    db_session.execute(text("DELETE FROM record_version"))
    db_session.commit()
    changelog.baseline(db_session.connection())
    db_session.commit()
    rows = list(db_session.scalars(select(RecordVersion).where(RecordVersion.door == "baseline")))
    persons = db_session.scalar(select(func.count()).select_from(Person))
    houses = db_session.scalar(select(func.count()).select_from(House))
    assert len(rows) == persons + houses
    p = next(r for r in rows if r.record_id == area.persons["A1"].id)
    assert _values(p)["id_number"] == area.persons["A1"].id_number and p.version == area.persons["A1"].version
    area.persons["A1"].name = "王改"
    db_session.commit()
    [latest, first] = versions.history(db_session, "person", area.persons["A1"].id, "centre")
    assert first.kind == "baseline" and [(c.field, c.old, c.new) for c in latest.changes] == [("name", "王A1", "王改")]


@pytest.mark.parametrize("kind", ["nowhere", ""])
def test_unknown_doors_are_refused(kind: str) -> None:
    with pytest.raises(ValueError):
        changelog.Door(kind)
