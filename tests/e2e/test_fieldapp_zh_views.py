"""No English and no raw codes on a Chinese phone (issue 18, point 6): every view of the field
app, opened by a coordinator and by a grid lead with a zh-CN phone over an area holding one of
each record (an occupant with a permit and a fixed line, a unit, a room, a flag, a task, a
registration waiting for review), shows no ASCII word outside the console test's allow-list
(tests/test_zh_screens.py: codes, units, abbreviations). The outbox's status after a failed
sync is read too: "失败 (network)" was the issue's example."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from playwright.sync_api import Browser, Page
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from tests.e2e.test_fieldapp_lead import lead_area
from tests.test_zh_screens import english
from webapp.models import HouseFlag, Person, Room, Unit


def _context(browser: Browser, live_server: LiveServer) -> Any:
    return browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 360, "height": 740})


# The text a person reads on the phone: what is rendered, the shown attributes and every option
# of every list (a closed <select> hides its options from innerText).
VISIBLE = """() => {
  const main = document.querySelector('main');
  const parts = [document.body.innerText];
  for (const el of document.querySelectorAll('[title],[placeholder],[aria-label],[alt]')) {
    for (const a of ['title', 'placeholder', 'aria-label', 'alt']) if (el.getAttribute(a)) parts.push(el.getAttribute(a));
  }
  for (const o of main.querySelectorAll('option')) parts.push(o.textContent);
  return parts.join('\\n');
}"""


def _words(page: Page, allowed: set[str]) -> set[str]:
    text = page.evaluate(VISIBLE)
    return english("<p>" + text.replace("&", "&amp;").replace("<", "&lt;") + "</p>", allowed)


def _area(server: LiveServer) -> Any:
    area = lead_area(server)
    house, other = (uuid.UUID(h) for h in area.houses)
    with Session(server.engine) as s:
        person = s.get(Person, uuid.UUID(area.person_id))
        person.category, person.landline = "migrant", "021-57812345"
        person.permit_number, person.permit_issued, person.permit_expiry = "SH2025001", date(2025, 1, 5), date(2028, 1, 5)
        unit = Unit(name="谷阳便利店", uscc="91350100M000100Y43", kind="enterprise", house_id=other)
        room = Room(house_id=house, name="北卧", kind="partitioned", living_area=7.5)
        flag = HouseFlag(house_id=other, kind="group_rent", note="疑似群租")
        s.add_all([unit, room, flag])
        s.commit()
        area.unit_id, area.room_id, area.flag_id = str(unit.id), str(room.id), str(flag.id)
    return area


def _views(area: Any) -> list[str]:
    h0, h1 = area.houses
    return ["#/cells", f"#/cell/{area.cell_id}", f"#/cell/{area.cell_id}/walk", f"#/cell/{area.cell_id}/permits",
            f"#/cell/{area.cell_id}/add-house", f"#/house/{h0}", f"#/house/{h1}", f"#/house/{h0}/add-person",
            f"#/house/{h0}/person/{area.person_id}/edit", f"#/house/{h0}/person/{area.person_id}/endorse",
            f"#/house/{h0}/housing", f"#/house/{h0}/room/{area.room_id}", f"#/house/{h0}/room/new",
            f"#/house/{h0}/visit", f"#/house/{h0}/flag", f"#/house/{h1}/flag/{area.flag_id}/clear",
            f"#/house/{h1}/unit", f"#/house/{h1}/unit/{area.unit_id}", f"#/house/{h1}/task/{area.task_id}/close",
            "#/tasks", "#/search", "#/outbox"]


def _check(page: Page, views: list[str], allowed: set[str]) -> dict[str, set[str]]:
    found = {}
    for view in views:
        fa.go(page, view)
        words = _words(page, allowed)
        if words:
            found[view] = words
    return found


def test_no_english_on_a_chinese_phone(browser: Browser, live_server: LiveServer) -> None:
    area = _area(live_server)
    allowed = {area.username, area.lead, area.tag}  # the tag makes the test's names unique
    context = _context(browser, live_server)
    page = context.new_page()
    page.goto("/app/")
    fa.wait_ready(page)
    assert _words(page, allowed) == set()  # the login
    fa.app_login(page, area.username)
    context.set_offline(True)
    fa.sync(page)  # fails: the outbox says why, in words
    found = _check(page, _views(area), allowed)
    context.close()
    assert not found, found

    context = _context(browser, live_server)
    lead = context.new_page()
    fa.app_login(lead, area.lead)
    found = _check(lead, ["#/cells", f"#/lead/cell/{area.cell_id}", f"#/cell/{area.cell_id}", "#/tasks", "#/outbox"],
                   allowed)
    context.close()
    assert not found, found
