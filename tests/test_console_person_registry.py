"""The console's person form and page since issue 18: the structured hukou address with its
region picked from the list, fixed lines and "no phone" answers, the permit's issue date,
the employer, and yearly endorsements recorded and archived."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.conftest import csrf_token, login
from webapp.models import AuditEntry, Person, Unit
from webapp.registry.rules import evaluate
from webapp.base.timeutil import local_today


def _form(person: Person, **changes: str) -> dict[str, str]:
    data = {"version": str(person.version), "name": person.name or "", "id_type": "resident",
            "id_number": person.id_number or "", "phone": person.phone or "", "landline": "", "phone_status": "",
            "category": person.category, "hukou_region": "", "hukou_road": "", "hukou_number": "",
            "hukou_building": "", "hukou_room": "", "hukou_address": "", "permit_number": "", "permit_issued": "",
            "permit_expiry": "", "employer_unit_id": "", "note": ""}
    return {**data, **changes}


def test_the_centre_records_a_structured_hukou_address(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    unit = Unit(name="谷阳超市", house_id=area.houses["A1"].id, kind="shop")
    db_session.add(unit)
    db_session.commit()
    login(client, "centre")
    page = client.get(f"/persons/{person.id}/edit").get_data(as_text=True)
    # The region is picked from the list, grouped by province; the employer from the units.
    assert '<optgroup label="上海市">' in page and '<option value="310117">上海市松江区</option>' in page
    assert "谷阳超市" in page
    data = _form(person, csrf_token=csrf_token(client, "/"), category="separated", hukou_region="310117",
                 hukou_road="人民北路", hukou_number="105号", hukou_building="2栋", hukou_room="302",
                 landline="5781 2345", permit_number="SH2026", permit_issued="2025-12-10",
                 permit_expiry="2028-12-10", employer_unit_id=str(unit.id))
    response = client.post(f"/persons/{person.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.rollback()
    db_session.refresh(person)
    assert (person.hukou_region, person.hukou_key, person.landline) == ("310117", "人民北路|105|2", "021-57812345")
    assert (person.permit_issued, person.employer_unit_id) == (date(2025, 12, 10), unit.id)
    flags = evaluate(db_session, today=date(2026, 11, 26), codes=("hukou_separation",))
    assert [(fl.record_id, fl.kind) for fl in flags if fl.record_id == person.id] == [(person.id, "separated")]
    shown = client.get(f"/persons/{person.id}").get_data(as_text=True)
    assert "上海市松江区人民北路105号" in shown and "021-57812345" in shown and "谷阳超市" in shown


def test_a_region_not_on_the_list_and_a_mobile_as_landline_are_refused(client, area) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    login(client, "centre")
    data = _form(person, csrf_token=csrf_token(client, "/"), hukou_region="310108", landline="13812345678",
                 permit_issued="2026-01-01", permit_expiry="2025-01-01")
    response = client.post(f"/persons/{person.id}/edit", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="landline-error"' in page and "请填在“手机号码”中" in page
    assert 'id="hukou_region-error"' in page and 'id="permit_expiry-error"' in page


def test_no_phone_answers_complete_the_record(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    person.set_phone(None)
    db_session.commit()
    has_no_phone = lambda: any(fl.kind == "no_phone" and fl.record_id == person.id  # noqa: E731
                               for fl in evaluate(db_session, today=date(2026, 11, 26), codes=("accuracy",)))
    assert has_no_phone()
    login(client, "centre")
    response = client.post(f"/persons/{person.id}/edit",
                           data=_form(person, csrf_token=csrf_token(client, "/"), phone_status="none"))
    assert response.status_code == 302
    db_session.rollback()
    assert not has_no_phone()


def test_a_masked_role_neither_sees_nor_loses_the_hukou_address(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    person.hukou_region, person.hukou_road, person.landline = "310117", "人民北路", "021-57812345"
    db_session.commit()
    login(client, "comm")
    page = client.get(f"/persons/{person.id}/edit").get_data(as_text=True)
    assert "人民北路" not in page and "57812345" not in page and 'value="310117" selected' not in page
    assert "021****2345" in page or "021*****2345" in page  # the landline's mask as the hint
    shown = client.get(f"/persons/{person.id}").get_data(as_text=True)
    assert "人民北路" not in shown and "松江区" not in shown and "上海市" in shown  # province only
    data = _form(person, csrf_token=csrf_token(client, "/"), id_number="", phone="", note="门口说的")
    assert client.post(f"/persons/{person.id}/edit", data=data).status_code == 302
    db_session.rollback()
    db_session.refresh(person)
    assert (person.hukou_region, person.hukou_road, person.landline, person.phone, person.note) == (
        "310117", "人民北路", "021-57812345", "13812345678", "门口说的")


def test_an_endorsement_recorded_in_the_console_clears_the_due_list(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    person = area.persons["A1"]
    today = local_today()
    person.permit_number, person.permit_issued = "SH1", today.replace(year=today.year - 1)
    person.permit_expiry = today.replace(year=today.year + 2)
    db_session.commit()
    due = lambda: [fl.kind for fl in evaluate(db_session, today=today, codes=("permits",))  # noqa: E731
                   if fl.record_id == person.id]
    assert due() == ["endorsement"]
    login(client, "comm")
    page = client.get(f"/persons/{person.id}").get_data(as_text=True)
    assert "记录签注" in page
    response = client.post(f"/persons/{person.id}/endorsement",
                           data={"csrf_token": csrf_token(client, "/"), "endorsed_on": today.isoformat()})
    assert response.status_code == 302
    db_session.rollback()
    db_session.refresh(person)
    assert (person.permit_endorsed_on, person.permit_endorsed_by_id) == (today, area.users["committee"].id)
    assert due() == []
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "record_endorsement"))
    assert entry is not None and entry.object_id == str(person.id)
    page = client.get(f"/persons/{person.id}").get_data(as_text=True)
    assert f"<li>{today.isoformat()} · " in page  # the archive, from the change log
    # Not in the future; and nothing to endorse without a permit.
    future = today.replace(year=today.year + 1).isoformat()
    assert client.post(f"/persons/{person.id}/endorsement",
                       data={"csrf_token": csrf_token(client, "/"), "endorsed_on": future}).status_code == 422


def test_a_permit_day_outside_the_calendar_a_push_keeps_is_refused(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """9999 typed for "long-term": the push refused it (field.range) and the form must too, or the
    permits rule's anniversaries ran past year 9999 and failed every rules run."""
    person = area.persons["A1"]
    login(client, "centre")
    data = _form(person, csrf_token=csrf_token(client, "/"), permit_number="SH2026", permit_issued="9999-01-01",
                 permit_expiry="9999-12-31")
    response = client.post(f"/persons/{person.id}/edit", data=data, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="permit_issued-error"' in page and 'id="permit_expiry-error"' in page
    assert "请填写 1900-01-01 至 2099-12-31 之间的日期" in page
    db_session.rollback()
    db_session.refresh(person)
    assert person.permit_issued is None and person.permit_expiry is None
