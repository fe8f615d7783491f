"""Issue 18 at the door, offline: an occupant with a structured hukou address (the district
picked from the list; the form says at once whether it is this house), a fixed line and the
residence permit's dates; the house's use, living area and a room with its kind; a yearly
endorsement. One sync later the registry holds all of it and its rules judge it."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import House, Person, Residency, Room
from webapp.registry.rules import evaluate


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Any:
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN")
    yield ctx
    ctx.close()


def _pick_region(page: Page, province: str, code: str) -> None:
    page.locator("#hukou select").first.select_option(label=province)
    page.select_option("[name=hukou_region]", code)


def test_an_occupant_a_room_and_an_endorsement_recorded_offline(context: Any, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    house = area.houses[0]  # 谷阳北路100号1号楼101室
    page = context.new_page()
    fa.app_login(page, area.username)
    context.set_offline(True)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()

    fa.go(page, f"#/house/{house}/add-person")
    page.fill("[name=name]", "分离者")
    page.fill("[name=id_number]", fa.fresh_id())
    page.select_option("[name=category]", "huji")
    _pick_region(page, "上海市", "310117")
    page.fill("[name=hukou_road]", "谷阳北路")
    page.fill("[name=hukou_number]", "100号")
    page.fill("[name=hukou_building]", "一栋")
    page.fill("[name=hukou_room]", "101室")
    # The same address written otherwise: this house, by the 人户分离 rule's own comparison.
    expect(page.locator("#hukou-place")).to_have_text("户籍地址就是本房屋：人户一致")
    page.fill("[name=hukou_room]", "302")
    expect(page.locator("#hukou-place")).to_contain_text("人户分离")
    expect(page.locator("#hukou-place")).to_contain_text("请核对“人员类别”")
    page.select_option("[name=category]", "separated")
    expect(page.locator("#hukou-place")).not_to_contain_text("请核对")
    page.fill("[name=landline]", "13812345678")  # a mobile typed as a fixed line
    page.click("button[type=submit]")
    expect(page.locator("[data-error-for=landline]")).to_have_text("这是手机号码，请填在“手机号码”中")
    page.fill("[name=landline]", "5781 2345")
    # 9999 typed for "long-term": refused at once, as the server would (field.range), and the
    # picker offers only the registry's days.
    assert page.get_attribute("[name=permit_expiry]", "max") == "2099-12-31"
    page.fill("[name=permit_expiry]", "9999-12-31")
    page.click("button[type=submit]")
    expect(page.locator("[data-error-for=permit_expiry]")).to_have_text("日期应在 1900-01-01 到 2099-12-31 之间")
    issued = today - timedelta(days=365)
    page.fill("[name=permit_number]", "SH2025001")
    page.fill("[name=permit_issued]", issued.isoformat())
    page.fill("[name=permit_expiry]", (issued + timedelta(days=3 * 365)).isoformat())
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")
    occupant = page.locator("#occupants li", has_text="分离者")
    expect(occupant.locator(".permit.endorse")).to_be_visible()  # the first anniversary is today

    # The yearly endorsement, done today: the tag goes.
    occupant.get_by_role("link", name="记录签注").click()
    fa.wait(page, "location.hash.endsWith('/endorse') && document.body.dataset.view === location.hash")
    endorsed = page.input_value("[name=permit_endorsed_on]")
    page.fill("[name=permit_endorsed_on]", "1899-12-31")
    page.click("button[type=submit]")
    expect(page.locator("[data-error-for=permit_endorsed_on]")).to_have_text("日期应在 1900-01-01 到 2099-12-31 之间")
    page.fill("[name=permit_endorsed_on]", endorsed)
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")
    expect(page.locator("#occupants li", has_text="分离者").locator(".permit.endorse")).to_have_count(0)

    # Housing: let, 40 m² to live in, and a partitioned room.
    page.click("#act-housing")
    fa.wait(page, "location.hash === arg && document.body.dataset.view === arg", f"#/house/{house}/housing")
    page.select_option("[name=use]", "rented")
    page.fill("[name=living_area]", "40")
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")
    fa.go(page, f"#/house/{house}/room/new")
    page.fill("[name=name]", "隔断1")
    page.select_option("[name=kind]", "partitioned")
    page.fill("[name=living_area]", "6.5")
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}/housing")
    expect(page.locator("#rooms li", has_text="隔断1")).to_contain_text("隔断间")
    expect(page.locator("#rooms .tag.warn")).to_have_count(1)

    sent = fa.outbox(page)
    assert [(e["type"], e["op"]) for e in sent] == [("person", "create"), ("residency", "create"), ("person", "update"),
                                                    ("house", "update"), ("room", "create")]
    # Nothing typed about the person is on the phone in clear: sealed, like the ID number.
    dump = fa.idb_dump(page)
    assert "57812345" not in dump and "SH2025001" not in dump

    context.set_offline(False)
    result = fa.sync(page)
    assert result["ok"] and fa.outbox(page) == [], result
    with Session(live_server.engine) as s:
        person = s.scalars(select(Person).where(Person.name == "分离者")).one()
        assert (person.landline, person.hukou_region, person.hukou_key, person.hukou_room_key) == (
            "021-57812345", "310117", "谷阳北路|100|1", "302")
        assert (person.permit_issued, person.permit_endorsed_on, person.permit_endorsed_by_id) == (
            issued, today, area.user_id)
        h = s.get(House, uuid.UUID(house))
        assert (h.use, h.living_area) == ("rented", 40.0)
        room = s.scalars(select(Room).where(Room.house_id == h.id)).one()
        assert (room.name, room.kind, room.living_area) == ("隔断1", "partitioned", 6.5)
        flags = {(fl.record_id, fl.kind) for fl in evaluate(s, today=today, codes=("hukou_separation", "permits"),
                                                              cell_ids=frozenset({h.cell_id}))}
        assert flags == {(person.id, "separated")}
        assert s.scalar(select(Residency).where(Residency.person_id == person.id)).house_id == h.id


def test_no_phone_answer_and_employer_recorded_offline(context: Any, live_server: LiveServer) -> None:
    """An elderly occupant with no phone at all ("无电话", an answer: not a gap the accuracy rule
    counts) working for a unit of the house, added offline; one sync later the registry has both
    and the rule finds nothing about the phone."""
    from webapp.models import Unit

    area = fa.coordinator_area(live_server)
    house = area.houses[0]
    with Session(live_server.engine) as s:
        unit = Unit(name="谷阳便利店", kind="enterprise", house_id=uuid.UUID(house))
        s.add(unit)
        s.commit()
        unit_id = unit.id
    page = context.new_page()
    fa.app_login(page, area.username)
    context.set_offline(True)
    fa.go(page, f"#/house/{house}/add-person")
    page.fill("[name=name]", "无电话者")
    page.fill("[name=id_number]", fa.fresh_id())  # born 1950–2005: a phone is expected
    page.select_option("[name=phone_status]", label="无电话")
    page.select_option("[name=employer_unit_id]", label="谷阳便利店")
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")

    context.set_offline(False)
    result = fa.sync(page)
    assert result["ok"] and fa.outbox(page) == [], result
    with Session(live_server.engine) as s:
        person = s.scalars(select(Person).where(Person.name == "无电话者")).one()
        assert (person.phone, person.landline, person.phone_status, person.employer_unit_id) == (
            None, None, "none", unit_id)
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
        flags = evaluate(s, today=today, codes=("accuracy",), cell_ids=frozenset({s.get(House, uuid.UUID(house)).cell_id}))
        assert [f for f in flags if f.record_id == person.id and f.kind == "no_phone"] == []
