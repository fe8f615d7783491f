"""At the door (issue 16 §6): typing an ID number the phone already holds in another house warns
at once, offline, and records a move instead of a second person; the same number in this house,
or a mobile already on an occupant of this house, is said too. The check reads the numbers
opened in memory at unlock, never anything kept in clear; a grid lead, whose phone holds
numbers masked, is never told a number is known."""
from __future__ import annotations

import uuid

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Person, Residency


def _type_id(page: Page, house: str, number: str, phone: str = "") -> None:
    fa.go(page, f"#/house/{house}/add-person")
    page.fill("[name=name]", "门口")
    page.fill("[name=id_number]", number)
    if phone:
        page.fill("[name=phone]", phone)


def test_a_known_id_number_offers_a_move_offline(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server, houses=2)
    fa.app_login(page, area.username)
    page.context.set_offline(True)
    _type_id(page, area.houses[1], area.person_id_number)
    known = page.locator("#id-known")
    expect(known).to_contain_text(f"该证件号码已登记在本机：{area.person_name}，谷阳北路100号1号楼101室")
    page.click("#record-move")
    fa.wait(page, "location.hash === arg", f"#/house/{area.houses[1]}")
    expect(page.locator("#occupants .name")).to_have_text(area.person_name)
    queued = fa.outbox(page)
    assert [(e["type"], e["op"], e["fields"].get("person_id")) for e in queued] == [("residency", "create", area.person_id)]

    page.context.set_offline(False)
    assert fa.sync(page)["ok"]
    with Session(live_server.engine) as s:
        stays = s.scalars(select(Residency).where(Residency.person_id == uuid.UUID(area.person_id))
                          .order_by(Residency.start_date)).all()
        assert [(str(r.house_id), r.end_date is None) for r in stays] == [(area.houses[0], False), (area.houses[1], True)]
        assert s.scalar(select(func.count()).select_from(Person).where(Person.name == area.person_name)) == 1
    fa.go(page, f"#/house/{area.houses[0]}")
    expect(page.locator("#occupants")).to_have_count(0)  # moved away: the old house is empty


def test_the_same_number_here_and_a_shared_mobile_are_said(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server, houses=2)
    fa.app_login(page, area.username)
    page.context.set_offline(True)
    _type_id(page, area.houses[0], area.person_id_number)
    expect(page.locator("#id-known")).to_contain_text(f"此人已住在本户：{area.person_name}")
    expect(page.locator("#record-move")).to_have_count(0)
    fa.add_occupant(page, area.houses[1], f"手机主{area.tag}", fa.fresh_id(), phone="13912345670")
    _type_id(page, area.houses[1], fa.fresh_id(), phone="139 1234 5670")
    expect(page.locator("#phone-known")).to_contain_text(f"本户已有人使用该手机号码：手机主{area.tag}")
    expect(page.locator("#id-known")).to_have_count(0)
    # A number nobody holds: no warning at all.
    _type_id(page, area.houses[1], fa.fresh_id(), phone="13800000009")
    expect(page.locator("#door-check")).to_be_hidden()


def test_a_grid_lead_is_never_told_a_masked_number_is_known(browser: Browser, live_server: LiveServer) -> None:
    with fa.lead_phone(browser, live_server) as (area, page):
        _type_id(page, area.houses[1], area.person_id_number)
        page.wait_for_timeout(300)
        expect(page.locator("#door-check")).to_have_count(1)  # the check ran: the box is there, empty
        expect(page.locator("#door-check")).to_be_hidden()
        assert page.evaluate("async (n) => (await import('/static/pwa/known.js')).byIdNumber(n)", area.person_id_number) is None
