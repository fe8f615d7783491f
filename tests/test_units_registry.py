"""实有单位 as a register (issue 18): the list and search within one's cells, duplicate credit
codes marked, the unit page's employees (persons linked as employer) as the role may see them."""
from __future__ import annotations

import re

import pytest

from sqlalchemy import select

from tests.conftest import login, valid_id
from tests.phones import Phone
from webapp.models import AuditEntry, Unit
from webapp.validation import uscc_check_char


def _code(body: str) -> str:
    return body + uscc_check_char(body)


def _units(s, area):  # type: ignore[no-untyped-def]
    shared = _code("91310117MA1J3K4L5")
    made = {
        "shop": Unit(name="谷阳便利店", uscc=_code("92310117MA1AAAAA1"), house_id=area.houses["A1"].id, kind="shop"),
        "firm": Unit(name="松江物流公司", uscc=shared, house_id=area.houses["A2"].id, kind="enterprise"),
        "twin": Unit(name="松江物流有限公司", uscc=shared, house_id=area.houses["B1"].id, kind="enterprise"),
        "gone": Unit(name="已注销商店", house_id=area.houses["A1"].id, kind="shop"),
    }
    s.add_all(made.values())
    s.flush()
    made["gone"].tombstone(None)
    return made


def _listed(html: str) -> list[str]:
    return re.findall(r'<tr data-unit="[^"]+"><td><a href="[^"]+">([^<]+)</a>', html)


def test_the_list_searches_name_code_and_address_within_ones_cells(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    made = _units(db_session, area)
    db_session.commit()
    login(client, "comm")
    assert sorted(_listed(client.get("/units").get_data(as_text=True))) == ["松江物流公司", "谷阳便利店"]
    assert _listed(client.get("/units?q=便利").get_data(as_text=True)) == ["谷阳便利店"]
    assert _listed(client.get("/units?q=ma1aaaa").get_data(as_text=True)) == ["谷阳便利店"]  # part of the code
    address = area.houses["A2"].address
    assert _listed(client.get(f"/units?q={address}").get_data(as_text=True)) == ["松江物流公司"]
    assert _listed(client.get("/units?kind=shop").get_data(as_text=True)) == ["谷阳便利店"]
    assert client.get(f"/units?cell={area.cells['B1'].id}").status_code == 404
    # The shared credit code is marked, though its twin is another committee's.
    page = client.get("/units").get_data(as_text=True)
    assert 'id="duplicates"' in page and page.count('<span class="tag warn">') == 1
    assert made["twin"].name not in page


def test_the_unit_page_lists_employees_as_the_role_sees_them(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    made = _units(db_session, area)
    firm = made["firm"]
    here = area.persons["A2"]
    here.employer_unit_id = firm.id
    elsewhere = area.persons["B1"]  # lives in another committee's cell
    elsewhere.employer_unit_id = firm.id
    db_session.commit()
    login(client, "comm")
    page = client.get(f"/units/{firm.id}").get_data(as_text=True)
    assert here.name in page and elsewhere.name not in page and "另有1人住在您的区域之外" in page
    assert "440***********0014" in page  # the committee sees the ID number masked
    assert 'id="same-uscc"' in page and "（不在您的区域内）" in page  # the twin is another committee's
    db_session.rollback()
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "view_unit"))
    assert entry is not None and entry.detail["persons"] == [str(here.id)]


def test_a_person_linked_on_the_phone_is_an_employee(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    import uuid

    made = _units(db_session, area)
    db_session.commit()
    token = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"}).get_json()["token"]
    pid = str(uuid.uuid4())
    batch = [{"id": str(uuid.uuid4()), "seq": 1, "type": "person", "op": "create", "record_id": pid,
              "fields": {"name": "店员", "id_number": valid_id("34010219950505123"), "employer_unit_id": str(made["shop"].id)}},
             {"id": str(uuid.uuid4()), "seq": 2, "type": "residency", "op": "create", "record_id": str(uuid.uuid4()),
              "fields": {"person_id": pid, "house_id": str(area.houses["A1"].id), "start_date": "2026-11-20"}}]
    answer = client.post("/api/sync/push", json={"protocol": 1, "mutations": batch},
                         headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [o["status"] for o in answer["outcomes"]] == ["applied", "applied"]
    login(client, "coord")
    assert "店员" in client.get(f"/units/{made['shop'].id}").get_data(as_text=True)
    listed = client.get("/units").get_data(as_text=True)
    row = listed[listed.index("谷阳便利店"):]
    assert re.search(r'<td class="num">1</td>', row[:row.index("</tr>")])


BROKEN_CONTACTS = ["abc", [1, 2], {"a": {"b": 1}}, [{"name": 5}], [{"name": "x" * 51}], [{"email": "a@b"}],
                   [{"name": "甲"}] * 21, [{"name": "a\x00b"}]]


@pytest.mark.parametrize("contacts", BROKEN_CONTACTS,
                         ids=["text", "numbers", "object", "number-name", "long-name", "other-key", "too-many", "nul"])
def test_a_push_stores_contacts_only_in_their_shape(area, db_session, contacts) -> None:  # type: ignore[no-untyped-def]
    """unit.contacts is JSON, and a push stored whatever a phone sent: the unit's console page,
    which reads each contact's name, phone and role, then answered 500 for everyone."""
    phone = Phone(db_session, area.users["coordinator"])
    fields = {"name": "谷阳便利店", "house_id": str(area.houses["A1"].id), "kind": "shop", "contacts": contacts}
    [outcome] = phone.push(phone.mutation("unit", "create", fields=fields))
    assert outcome["status"] == "rejected" and outcome["errors"][0]["field"] == "contacts"
    assert outcome["errors"][0]["zh"] and outcome["errors"][0]["en"]
    good = [{"name": "王店主", "phone": "13812345678", "role": "店主"}]
    [outcome] = phone.push(phone.mutation("unit", "create", fields={**fields, "contacts": good}))
    assert outcome["status"] == "applied"


def test_the_unit_page_reads_contacts_stored_in_another_shape(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """Contacts stored before the shape was checked: the page shows those it can read."""
    unit = Unit(name="谷阳便利店", house_id=area.houses["A1"].id, kind="shop",
                contacts=[1, {"name": "王店主", "phone": "13812345678"}, "x"])
    db_session.add(unit)
    db_session.commit()
    login(client, "centre")
    page = client.get(f"/units/{unit.id}")
    assert page.status_code == 200 and "王店主" in page.get_data(as_text=True)
