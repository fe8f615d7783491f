"""Logins' administration in a real browser: the centre creates a login, whose first login must
choose its own password before anything else; a committee gives a coordinator cells by
clicking them on the map; accessibility; nothing fetched from elsewhere."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.e2e.conftest import LiveServer, log_in, run_axe
from webapp.models import User, cell_coordinator

SIZE = 0.002


def _square(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[
        [lon, lat], [lon + SIZE, lat], [lon + SIZE, lat + SIZE], [lon, lat + SIZE], [lon, lat]]]}


@pytest.fixture(scope="module")
def staff(live_server: LiveServer) -> SimpleNamespace:
    """The centre `adm_centre`; committee `adm_comm` with three cells side by side and a
    coordinator `adm_xg` who has the first; another committee's cell beside them."""
    with Session(live_server.engine) as s:
        committee, other = f.committee(s, name="管理居委"), f.committee(s, name="别家居委")
        f.user(s, "adm_centre", "centre", display_name="中心管理员")
        f.user(s, "adm_comm", "committee", committee_id=committee.id, display_name="居委管理员")
        coord = f.user(s, "adm_xg", "coordinator", committee_id=committee.id, display_name="地图协管员")
        cells = [f.cell(s, committee, name=f"管理格{i}", boundary=_square(121.40 + i * SIZE, 31.20)) for i in range(3)]
        cells[0].coordinators.append(coord)
        outside = f.cell(s, other, name="别家格", boundary=_square(121.40, 31.20 + SIZE))
        s.commit()
        return SimpleNamespace(coord=coord.id, codes=[c.code for c in cells], ids=[str(c.id) for c in cells],
                               outside=outside.code)


def test_a_new_login_must_choose_its_password_first(browser: Browser, live_server: LiveServer, staff: SimpleNamespace) -> None:
    centre = browser.new_context(base_url=live_server.url, locale="zh-CN")
    try:
        page = centre.new_page()
        log_in(page, "adm_centre")
        page.goto("/admin/users")
        page.get_by_role("link", name="新建账号").click()
        page.locator("#username").fill("adm_new")
        page.locator("#display_name").fill("新来的协管员")
        page.locator("#role").select_option("coordinator")
        page.locator("#committee").select_option(label="管理居委")
        page.locator("main form button[type=submit]").click()
        temporary = page.locator("#temporary-password").inner_text().strip()
        assert len(temporary) == 14
        page.reload()  # the password is shown once: a reload asks to submit again, never shows it from a cache
    finally:
        centre.close()
    newcomer = browser.new_context(base_url=live_server.url, locale="zh-CN")
    try:
        page = newcomer.new_page()
        log_in(page, "adm_new", temporary)
        expect(page).to_have_url(f"{live_server.url}/account")
        page.goto("/")  # nothing else opens before the new password
        expect(page).to_have_url(f"{live_server.url}/account")
        page.locator("#current").fill(temporary)
        page.locator("#new").fill("my-own-long-passphrase")
        page.locator("#again").fill("my-own-long-passphrase")
        page.locator("form[action='/account/password'] button[type=submit]").click()
        expect(page).to_have_url(f"{live_server.url}/")
        expect(page.locator("h1")).to_have_text("我的区域")
    finally:
        newcomer.close()
    with Session(live_server.engine) as s:
        user = s.scalar(select(User).where(User.username == "adm_new"))
        assert user is not None and not user.must_change_password and user.last_login_at is not None


def _open_picker(page: Page, staff: SimpleNamespace) -> None:
    log_in(page, "adm_comm")
    page.goto(f"/admin/users/{staff.coord}/cells")
    expect(page.locator("#pick-map[data-ready=true]")).to_be_attached()


def test_cells_are_given_by_clicking_the_map(page: Page, live_server: LiveServer, staff: SimpleNamespace) -> None:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    _open_picker(page, staff)
    shapes = page.locator("path.pick-cell")
    expect(shapes).to_have_count(3)  # the other committee's cell is not drawn
    assert page.locator(f'path[data-cell-code="{staff.outside}"]').count() == 0
    first, _second, third = (page.locator(f'path[data-cell-code="{code}"]') for code in staff.codes)
    expect(first).to_have_attribute("data-state", "mine")
    # Untick the first, tick the third, on the map; the list follows.
    first.click(position={"x": 6, "y": 6})
    third.click(position={"x": 6, "y": 6})
    expect(third).to_have_attribute("data-state", "mine")
    expect(first).to_have_attribute("data-state", "free")
    assert page.locator(f'input[name=cells][value="{staff.ids[2]}"]').is_checked()
    assert not page.locator(f'input[name=cells][value="{staff.ids[0]}"]').is_checked()
    expect(page.locator("#pick-count")).to_have_text("1")
    # The keyboard does the same.
    page.locator(f'path[data-cell-code="{staff.codes[1]}"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#pick-count")).to_have_text("2")
    page.locator("form.cells-form button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_contain_text("新分配 2 个，收回 1 个")
    with Session(live_server.engine) as s:
        given = {str(c) for c in s.scalars(select(cell_coordinator.c.cell_id).where(cell_coordinator.c.user_id == staff.coord))}
    assert given == {staff.ids[1], staff.ids[2]}
    assert [u for u in seen if not u.startswith(live_server.url + "/") and not u.startswith("data:")] == []
    assert problems == []


@pytest.mark.browser_context_args(bypass_csp=True)
def test_no_wcag_a_or_aa_violations(page: Page, staff: SimpleNamespace) -> None:
    _open_picker(page, staff)
    assert run_axe(page) == []
    page.goto("/admin/users")
    assert run_axe(page) == []
    page.goto(f"/admin/users/{staff.coord}")
    assert run_axe(page) == []


def test_the_list_at_360_px(browser: Browser, live_server: LiveServer, staff: SimpleNamespace) -> None:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 360, "height": 740},
                                  is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        log_in(page, "adm_comm")
        page.goto("/admin/users")
        expect(page.get_by_text("地图协管员")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
