"""A community reporter on a phone-sized screen: find a house of their committee, file a
report, see it in their list; accessible, and nothing of the occupants on the page."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from tests import factories as f
from tests.e2e.conftest import LiveServer, log_in, run_axe


@pytest.fixture(scope="module")
def reporter_area(live_server: LiveServer) -> SimpleNamespace:
    with Session(live_server.engine) as s:
        committee, other = f.committee(s, name="报告居委"), f.committee(s, name="隔壁居委")
        cell, elsewhere = f.cell(s, committee), f.cell(s, other)
        coord = f.user(s, "rep_coord", "coordinator")
        cell.coordinators.append(coord)
        house = f.house(s, cell, road="报告路", number="12", building="3", room="402")
        f.house(s, elsewhere, road="报告路", number="99")
        occupant = f.person(s, name="韩梅梅", phone="13911112222")
        f.residency(s, occupant, house)
        f.user(s, "rep_e2e", "reporter", display_name="周楼组长", committee_id=committee.id)
        s.commit()
        return SimpleNamespace(address=house.address)


def test_a_reporter_files_a_report_from_a_phone(browser: Browser, live_server: LiveServer,
                                                reporter_area: SimpleNamespace) -> None:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", bypass_csp=True,
                                  viewport={"width": 360, "height": 740})
    page = context.new_page()
    log_in(page, "rep_e2e")
    page.goto("/community")
    page.get_by_label("门牌码或地址").fill("报告路")
    page.get_by_role("button", name="查找").click()
    links = page.locator("ul.houses a")
    expect(links).to_have_count(1)  # the other committee's house on the same road is not offered
    expect(links.first).to_have_text(reporter_area.address)
    links.first.click()
    assert run_axe(page) == []  # the report form
    page.get_by_label("志愿者").check()
    page.get_by_label("房屋问题").check()
    page.locator("textarea[name=text]").fill("楼道里堆满杂物，疑似有人住在储藏室")
    page.get_by_role("button", name="提交报告").click()
    expect(page.locator(".flash.ok")).to_contain_text("谢谢")
    item = page.locator(".my-reports li").first
    expect(item).to_contain_text(reporter_area.address)
    expect(item).to_contain_text("待处理")
    expect(item).to_contain_text("志愿者")
    body = page.content()
    assert "韩梅梅" not in body and "13911112222" not in body
    # Fits the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert run_axe(page) == []
    context.close()
