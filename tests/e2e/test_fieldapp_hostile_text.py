"""Markup in stored text never becomes markup on a coordinator's phone.

The server stores what it is sent verbatim and the console escapes it (tests/test_injection.py);
the field app builds its pages with textContent only (static/pwa/ui.js). This holds the phone
to it in a real browser: text carrying markup reaches it through the doors an outsider has
(a resident's declaration on the public plate page, the only one needing no login) and the
registry's own (a cell's name, an address, an occupant, a flag's note, a unit, a room), and
every screen that shows them shows the characters, with no element made of them. The
payloads would not run anyway under the app's CSP (no inline script or handler): the test
looks for the elements themselves, which innerHTML would create all the same."""
from __future__ import annotations

import uuid

from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Cell, House, HouseFlag, Person, Room, Unit

# Every payload carries data-h: an element with it on the page is markup made from text.
LONG = '"><img src="/x-hostile" data-h="1" alt="甲">'
SHORT = "<b data-h=1>乙"  # rooms and house rooms hold 16 and 32 characters
NO_MARKUP = "() => document.querySelectorAll('[data-h], img[src=\"/x-hostile\"]').length"


def _shows(page: Page, hash_: str, *texts: str) -> None:
    fa.go(page, hash_)
    for text in texts:
        expect(page.locator("main")).to_contain_text(text)
    assert page.evaluate(NO_MARKUP) == 0, hash_


def test_markup_in_stored_text_stays_text_on_the_phone(context: BrowserContext, browser: Browser,
                                                      live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    house_id = uuid.UUID(area.houses[0])
    with Session(live_server.engine) as s:
        house = s.get(House, house_id)
        assert house is not None
        s.get(Cell, uuid.UUID(area.cell_id)).name = f"网格{LONG}"  # type: ignore[union-attr]
        house.road, house.room = f"路{LONG}", SHORT
        s.get(Person, uuid.UUID(area.person_id)).name = f"住户{LONG}"  # type: ignore[union-attr]
        s.add(HouseFlag(house_id=house_id, kind="group_rent", note=f"备注{LONG}"))
        s.add(Unit(name=f"单位{LONG}", house_id=house_id, kind="enterprise"))
        room = Room(house_id=house_id, name=SHORT, kind="partitioned")
        s.add(room)
        s.commit()
        room_id = str(room.id)
    fa.declare(browser, live_server, area.codes[0], f"告知{LONG}")

    page = context.new_page()
    fa.app_login(page, area.username)
    _shows(page, "#/cells", f"网格{LONG}")
    _shows(page, f"#/cell/{area.cell_id}", f"路{LONG}")
    _shows(page, f"#/house/{house_id}", f"住户{LONG}", f"备注{LONG}", f"单位{LONG}", f"告知{LONG}")
    _shows(page, f"#/house/{house_id}/housing", SHORT)
    _shows(page, f"#/house/{house_id}/room/{room_id}", SHORT)
    _shows(page, "#/tasks", f"告知{LONG}")
    fa.go(page, "#/search")
    page.fill("#q", "住户")
    page.click("main button[type=submit]")
    expect(page.locator("#results")).to_contain_text(f"住户{LONG}")
    assert page.evaluate(NO_MARKUP) == 0
