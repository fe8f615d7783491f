"""What a phone keeps at rest (issue 15 §6): after a first sync, after an occupant added offline
and after an edit, no ID number, phone, birth date, hukou address or region, permit number or
note of any person the server holds is anywhere in the phone's IndexedDB in clear — the last
six ID digits, birth date and hukou region kept in clear used to rebuild two ID numbers in three.
The app still shows and sends all of it once unlocked; search by the last digits still works."""
from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import House, Person, Task, Unit

# Keys of the old format whose values, side by side, rebuilt ID numbers.
OLD_KEYS = ("id_tail", "id_enc", "birth_date", "hukou_region", "phone", "hukou_address", "note", "permit_number")


def full_residents(server: LiveServer, house_id: str, tag: str, n: int = 3) -> list[dict]:
    """Residents with every personal field filled in, living at the house."""
    out = []
    with Session(server.engine) as s:
        house = s.get(House, uuid.UUID(house_id))
        for i in range(n):
            number = fa.fresh_id()
            phone = f"139{random.randrange(10**7, 10**8)}"
            p = f.person(s, name=f"全项{tag}{i}", id_number=number, phone=phone, hukou_region=("320102", "410105", "510104")[i % 3],
                         hukou_address=f"江苏省南京市玄武区户籍路{tag}{i}号", hukou_road=f"户籍路{tag}", hukou_number=str(10 + i),
                         hukou_building="3", hukou_room=f"50{i}", permit_number=f"沪{random.randrange(10**13, 10**14)}",
                         permit_expiry=date.today() + timedelta(days=400 + i), note=f"备注{tag}{i}：行动不便，白天在家",
                         landline=f"021-5{random.randrange(10**6, 10**7)}", permit_issued=date.today() - timedelta(days=300))
            f.residency(s, p, house)
            out.append({"id": str(p.id), "name": p.name, "id_number": number, "phone": phone,
                        "birth_date": p.birth_date.isoformat(), "permit_number": p.permit_number})
        s.commit()
    return out


def others_phones(server: LiveServer, house_id: str) -> list[str]:
    """A resident's task with a phone to call back, and a unit's contact person: personal data
    of others that the phone never shows, so never keeps."""
    phones = [f"158{random.randrange(10**7, 10**8)}", f"159{random.randrange(10**7, 10**8)}"]
    with Session(server.engine) as s:
        s.add(Task(house_id=uuid.UUID(house_id), kind="moved_in", text="楼上新搬来一户", contact_phone=phones[0],
                  status="open", source="public"))
        s.add(Unit(name="某某便利店", house_id=uuid.UUID(house_id), kind="shop",
                   contacts=[{"name": "店主", "phone": phones[1]}]))
        s.commit()
    return phones


def forbidden(server: LiveServer) -> list[str]:
    """Every personal value of every person the server holds. Free text shorter than four
    characters is left out: it could match a house's own words by chance; so is a hukou road
    that is a house's road (a person of another test registered at a house of the area: the
    road is on every house record, rightly in clear)."""
    out: list[str] = []
    with Session(server.engine) as s:
        roads = set(s.scalars(select(House.road)))
        for p in s.scalars(select(Person)):
            out += [p.id_number or "", p.phone or "", p.hukou_region or "", p.permit_number or ""]
            # Issue 18's personal fields: sealed like the rest (personal.js seals what is not listed clear).
            out += [p.landline or "", (p.landline or "").replace("-", "")]
            out += [x for x in (p.hukou_address, p.note, p.hukou_road) if x and len(x) >= 4 and x not in roads]
            if p.birth_date:
                out += [p.birth_date.isoformat(), p.birth_date.strftime("%Y%m%d")]
    return out


def person_rows(page: Page) -> list[dict]:
    return page.evaluate("async () => (await (await import('/static/pwa/db.js')).db()).getAll('person')")


def assert_nothing_in_clear(page: Page, extra: list[str], server: LiveServer) -> None:
    dump = fa.idb_dump(page)
    assert fa.in_clear(dump, forbidden(server) + extra) == []
    for row in person_rows(page):
        assert not [k for k in OLD_KEYS if k in row], row  # sealed, not merely emptied
        assert set(row) <= {"id", "version", "changed_at", "deleted_at", "seq", "changed_by_id", "name", "sex", "category",
                            "id_type", "permit_expiry", "permit_issued", "permit_endorsed_on", "id_masked", "phone_masked",
                            "sealed", "patches", "purged_at"}, row


def test_nothing_personal_in_clear_after_sync_add_and_edit(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    residents = full_residents(live_server, area.houses[0], area.tag)
    others = others_phones(live_server, area.houses[0])
    tokens: list[str] = []
    page.on("response", lambda r: tokens.append(r.json()["token"]) if r.url.endswith("/api/devices") and r.ok else None)
    fa.app_login(page, area.username)
    assert len(person_rows(page)) == 4 and len(tokens) == 1
    assert fa.idb_contents(page)["gridwalk/task"] == 1 and fa.idb_contents(page)["gridwalk/unit"] == 1
    # The device token too: in clear, a copy of the storage would be a live login to the server.
    tokens += others
    assert_nothing_in_clear(page, tokens, live_server)

    # Sealed, not lost: the edit form and the house page open them.
    first = residents[0]
    fa.go(page, f"#/house/{area.houses[0]}/person/{first['id']}/edit")
    expect(page.locator("[name=id_number]")).to_have_value(first["id_number"])
    expect(page.locator("[name=phone]")).to_have_value(first["phone"])
    expect(page.locator("[name=permit_number]")).to_have_value(first["permit_number"])
    fa.go(page, f"#/house/{area.houses[0]}")
    row = page.locator("#occupants li", has_text=first["name"])
    expect(row).to_contain_text(first["birth_date"])
    expect(row).to_contain_text(f"{first['phone'][:3]}****{first['phone'][-4:]}")

    # Offline: a new occupant waits in the outbox, sealed too.
    fa.block_sync(page)
    name, number, phone = f"离线{area.tag}", fa.fresh_id(), f"137{random.randrange(10**7, 10**8)}"
    fa.add_occupant(page, area.houses[1], name, number, phone=phone)
    born = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    assert len(fa.outbox(page)) == 2
    assert_nothing_in_clear(page, [number, phone, born, number[6:14], *tokens], live_server)

    # An edit: a new phone and permit number for a resident the server sent.
    second = residents[1]
    new_phone, new_permit = f"136{random.randrange(10**7, 10**8)}", f"沪{random.randrange(10**13, 10**14)}"
    fa.go(page, f"#/house/{area.houses[0]}/person/{second['id']}/edit")
    page.fill("[name=phone]", new_phone)
    page.fill("[name=permit_number]", new_permit)
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{area.houses[0]}")
    assert len(fa.outbox(page)) == 3
    assert_nothing_in_clear(page, [number, phone, born, new_phone, new_permit, *tokens], live_server)
    # The phone shows the edit at once (its queued patch over the server's sealed row).
    fa.go(page, f"#/house/{area.houses[0]}/person/{second['id']}/edit")
    expect(page.locator("[name=phone]")).to_have_value(new_phone)
    expect(page.locator("[name=id_number]")).to_have_value(second["id_number"])

    # What was sealed is sent in full.
    fa.unblock_sync(page)
    result = fa.sync(page)
    assert result["ok"], result
    assert fa.outbox(page) == []
    with Session(live_server.engine) as s:
        added = s.scalars(select(Person).where(Person.name == name)).one()
        assert (added.id_number, added.phone) == (number, phone)
        edited = s.get(Person, uuid.UUID(second["id"]))
        assert (edited.phone, edited.permit_number, edited.id_number) == (new_phone, new_permit, second["id_number"])
    assert_nothing_in_clear(page, tokens, live_server)
