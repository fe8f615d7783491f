"""The field app's house work offline: flags set and cleared, units noted, edited and closed, an
occupant placed in a room and a household; then the cell's walking order ("按路线") and the
residence permits due — each checked in the registry after one sync, or on the phone offline."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Cell, HouseFlag, Person, Residency, Room, Unit


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Any:
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN")
    yield ctx
    ctx.close()


def _saved(page: Page, house: str) -> None:
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")


def test_flags_and_units_offline(context: Any, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    house = area.houses[0]
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    fa.app_login(page, area.username)
    context.set_offline(True)

    fa.go(page, f"#/house/{house}/flag")
    page.select_option("[name=kind]", "group_rent")
    _saved(page, house)
    fa.go(page, f"#/house/{house}/flag")
    page.select_option("[name=kind]", "illegal_building")
    _saved(page, house)
    expect(page.locator("#flags li")).to_have_count(2)
    # Resolve the group-renting flag (the tenants moved out).
    page.locator("#flags li[data-kind=group_rent]").get_by_role("link", name="解除标记").click()
    page.fill("[name=note]", "已整改")
    _saved(page, house)
    expect(page.locator("#flags li")).to_have_count(1)
    expect(page.locator("#flags li[data-kind=illegal_building]")).to_be_visible()

    # Two units: one renamed, the other closed.
    for name in ("好邻居便利店", "小王裁缝铺"):
        fa.go(page, f"#/house/{house}/unit")
        page.fill("[name=name]", name)
        _saved(page, house)
    page.locator("#units li", has_text="好邻居便利店").get_by_role("link", name="修改").click()
    page.fill("[name=name]", "好邻居便利店（谷阳店）")
    page.select_option("[name=kind]", "shop")
    _saved(page, house)
    page.locator("#units li", has_text="小王裁缝铺").get_by_role("link", name="修改").click()
    page.click("#unit-close")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")
    expect(page.locator("#units li")).to_have_count(1)
    expect(page.locator("#units li")).to_contain_text("好邻居便利店（谷阳店）")
    kinds = [(e["type"], e["op"]) for e in fa.outbox(page)]
    assert kinds == [("house_flag", "create"), ("house_flag", "create"), ("house_flag", "update"),
                     ("unit", "create"), ("unit", "create"), ("unit", "update"), ("unit", "delete")]

    context.set_offline(False)
    result = fa.sync(page)
    assert result["ok"] and fa.outbox(page) == [], result
    with Session(live_server.engine) as s:
        flags = {f.kind: f for f in s.scalars(select(HouseFlag).where(HouseFlag.house_id == uuid.UUID(house)))}
        assert set(flags) == {"group_rent", "illegal_building"}
        assert flags["group_rent"].cleared_at is not None and flags["group_rent"].note == "已整改"
        assert flags["illegal_building"].cleared_at is None
        units = {u.name: u for u in s.scalars(select(Unit).where(Unit.house_id == uuid.UUID(house)))}
        assert set(units) == {"好邻居便利店（谷阳店）", "小王裁缝铺"}
        assert units["好邻居便利店（谷阳店）"].kind == "shop" and units["好邻居便利店（谷阳店）"].deleted_at is None
        assert units["小王裁缝铺"].deleted_at is not None  # closed: a tombstone, kept in the history


def test_occupant_in_a_room_and_a_household(context: Any, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    house = area.houses[0]
    with Session(live_server.engine) as s:
        rooms = [Room(house_id=uuid.UUID(house), name=n) for n in ("北间", "南间")]
        s.add_all(rooms)
        s.commit()
        south = str(rooms[1].id)
    page = context.new_page()
    fa.app_login(page, area.username)
    context.set_offline(True)

    fa.go(page, f"#/house/{house}/add-person")
    page.fill("[name=name]", f"家属{area.tag}")
    page.fill("[name=id_number]", fa.fresh_id())
    page.select_option("[name=relation]", "family")
    page.select_option("[name=room_id]", label="南间")
    page.select_option("[name=household]", label=f"与{area.person_name}同户")
    _saved(page, house)
    expect(page.locator("#occupants li", has_text=f"家属{area.tag}")).to_contain_text("室号 南间")
    # The existing occupant joins the new household with them (a residency update).
    assert [(e["type"], e["op"]) for e in fa.outbox(page)] == [
        ("person", "create"), ("residency", "create"), ("residency", "update")]

    context.set_offline(False)
    result = fa.sync(page)
    assert result["ok"] and fa.outbox(page) == [], result
    with Session(live_server.engine) as s:
        stays = {r.person.name: r for r in s.scalars(select(Residency).where(
            Residency.house_id == uuid.UUID(house), Residency.end_date.is_(None)))}
        new, old = stays[f"家属{area.tag}"], stays[area.person_name]
        assert str(new.room_id) == south and new.relation == "family"
        assert new.household_id is not None and new.household_id == old.household_id
        assert old.room_id is None


def _today() -> Any:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the phone's "today" (shanghaiToday)


def _walk_area(live_server: LiveServer) -> Any:
    """A cell of three buildings on a line (west, east, middle by address) and a coordinator."""
    area = fa.coordinator_area(live_server, houses=1)
    with Session(live_server.engine) as s:
        cell = s.get(Cell, uuid.UUID(area.cell_id))
        made = {}
        for building, lon in (("1", 121.2300), ("2", 121.2340), ("3", 121.2320)):
            for room in ("201", "101"):
                made[(building, room)] = f.house(s, cell, road="寿星路", number="9", building=building, room=room,
                                                 floor=int(room[0]), lon=lon, lat=31.0)
        today = _today()
        soon = f.person(s, name=f"快到期{area.tag}", id_number=fa.fresh_id(), permit_number="310000123",
                        permit_expiry=today + timedelta(days=10))
        late = f.person(s, name=f"已过期{area.tag}", id_number=fa.fresh_id(), permit_expiry=today - timedelta(days=3))
        far = f.person(s, name=f"还早{area.tag}", id_number=fa.fresh_id(), permit_expiry=today + timedelta(days=200),
                       permit_endorsed_on=today - timedelta(days=10))  # its last anniversary endorsed
        for person in (soon, late, far):
            f.residency(s, person, made[("1", "101")])
        s.commit()
        area.walk = {k: str(v.id) for k, v in made.items()}
    return area


def test_walking_order_offline(context: Any, live_server: LiveServer) -> None:
    area = _walk_area(live_server)
    page = context.new_page()
    fa.app_login(page, area.username)
    fa.wait_meta(page, "walk")  # fetched after the login's sync
    context.set_offline(True)
    fa.go(page, f"#/cell/{area.cell_id}")
    page.click("#act-walk")
    fa.wait(page, "location.hash === arg", f"#/cell/{area.cell_id}/walk")
    # Building 1 (first by address), then 3 (200 m east), then 2; floor 1 before floor 2.
    expected = [area.walk[(b, r)] for b in ("1", "3", "2") for r in ("101", "201")]
    expect(page.locator("#walk li")).to_have_count(7)
    order = page.locator("#walk li").evaluate_all("(lis) => lis.map((li) => li.dataset.house)")
    assert order[:6] == expected and order[6:] == area.houses  # the house without a location last

    # Visit the first stop offline: it leaves the list, the rest keep their order.
    fa.go(page, f"#/house/{expected[0]}/visit")
    _saved(page, expected[0])
    fa.go(page, f"#/cell/{area.cell_id}/walk")
    expect(page.locator("#walk li")).to_have_count(6)
    expect(page.locator("#walk li").first).to_have_attribute("data-house", expected[1])
    order = page.locator("#walk li").evaluate_all("(lis) => lis.map((li) => li.dataset.house)")
    assert order == expected[1:] + area.houses


def test_residence_permits_due_offline(context: Any, live_server: LiveServer) -> None:
    area = _walk_area(live_server)
    page = context.new_page()
    fa.app_login(page, area.username)
    assert page.locator('meta[name="gw-permit-days"]').get_attribute("content") == "30"
    context.set_offline(True)
    fa.go(page, f"#/cell/{area.cell_id}")
    page.click("#act-permits")
    fa.wait(page, "location.hash === arg", f"#/cell/{area.cell_id}/permits")
    rows = page.locator("#permits li")
    expect(rows).to_have_count(2)  # the one due in 200 days is not listed
    expect(rows.nth(0)).to_contain_text(f"已过期{area.tag}")
    expect(rows.nth(0).locator(".permit")).to_contain_text("居住证已过期")
    expect(rows.nth(1)).to_contain_text(f"快到期{area.tag}")
    expect(rows.nth(1).locator(".permit")).to_contain_text(str(_today() + timedelta(days=10)))
    # The badge on the person at their house.
    rows.nth(1).get_by_role("link").click()
    house = area.walk[("1", "101")]
    fa.wait(page, "location.hash === arg", f"#/house/{house}")
    expect(page.locator("#occupants li", has_text=f"快到期{area.tag}").locator(".permit")).to_have_text(
        f"居住证到期 {_today() + timedelta(days=10)}")
    expect(page.locator("#occupants li", has_text=f"还早{area.tag}").locator(".permit")).to_have_count(0)

    # The permit was renewed: record the new date; the badge and the list follow at once.
    renewed = _today() + timedelta(days=3 * 365)
    page.locator("#occupants li", has_text=f"快到期{area.tag}").get_by_role("link", name="修改").click()
    expect(page.locator("[name=permit_expiry]")).to_be_visible()
    expect(page.locator("main .permit")).to_have_text(f"居住证到期 {_today() + timedelta(days=10)}")
    page.fill("[name=permit_expiry]", str(renewed))
    _saved(page, house)
    expect(page.locator("#occupants li", has_text=f"快到期{area.tag}").locator(".permit")).to_have_count(0)
    fa.go(page, f"#/cell/{area.cell_id}/permits")
    expect(page.locator("#permits li")).to_have_count(1)
    context.set_offline(False)
    result = fa.sync(page)
    assert result["ok"] and fa.outbox(page) == [], result
    with Session(live_server.engine) as s:
        assert s.scalar(select(Person.permit_expiry).where(Person.name == f"快到期{area.tag}")) == renewed


def test_search_finds_what_was_just_saved_offline(context: Any, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    page = context.new_page()
    fa.app_login(page, area.username)
    context.set_offline(True)
    number = fa.fresh_id()
    fa.add_occupant(page, area.houses[1], f"刚登记{area.tag}", number, phone="13911112222")

    def found(query: str) -> Any:
        fa.go(page, "#/search")
        page.fill("#q", query)
        page.click("main button[type=submit]")
        return page.locator("#results li")

    # The index was built before the save: the save makes it rebuild, so the newcomer is found.
    for query in (f"刚登记{area.tag}", number[-6:], number, "13911112222"):
        expect(found(query).filter(has_text=f"刚登记{area.tag}")).to_have_count(1)
    found(f"刚登记{area.tag}").first.get_by_role("link").click()
    fa.wait(page, "location.hash === arg", f"#/house/{area.houses[1]}")
    # Houses by plate code (typed in lower case, with a space) and by address.
    expect(found(f" {area.codes[1].lower()} ")).to_have_count(1)
    expect(found("谷阳北路101").filter(has_text="谷阳北路101号")).to_have_count(1)


def test_new_screens_are_accessible_at_360px(browser: Browser, live_server: LiveServer) -> None:
    from tests.e2e.test_fieldapp_a11y import _check

    area = _walk_area(live_server)
    house = area.walk[("1", "101")]
    with Session(live_server.engine) as s:
        s.add(Room(house_id=uuid.UUID(house), name="北间"))
        s.add(HouseFlag(house_id=uuid.UUID(house), kind="group_rent", note="五人一间"))
        s.add(Unit(house_id=uuid.UUID(house), name="好邻居便利店", kind="shop"))
        s.commit()
        flag = str(s.scalar(select(HouseFlag.id).where(HouseFlag.house_id == uuid.UUID(house))))
        unit = str(s.scalar(select(Unit.id).where(Unit.house_id == uuid.UUID(house))))
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", bypass_csp=True,
                                  viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        fa.app_login(page, area.username)
        fa.wait_meta(page, "walk")
        for screen, ready in ((f"#/house/{house}", "#flags li"), (f"#/house/{house}/flag/{flag}/clear", "[name=note]"),
                              (f"#/house/{house}/unit/{unit}", "#unit-close"), (f"#/house/{house}/add-person", "[name=room_id]"),
                              (f"#/cell/{area.cell_id}/walk", "#walk li"), (f"#/cell/{area.cell_id}/permits", "#permits li")):
            fa.go(page, screen)
            expect(page.locator(ready).first).to_be_visible()
            assert _check(page) == [], screen
    finally:
        context.close()
