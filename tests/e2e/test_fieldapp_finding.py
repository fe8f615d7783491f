"""Finding things (issue 16 §7): an address typed as printed ("谷阳北路21弄1号楼1001室"), a room
alone ("1001室"), full-width digits or Chinese numerals finds the house on the phone and in the
console, by one rule; rooms sort naturally; no "null" line in results; addresses read as written
("宿舍楼", not "宿舍楼号楼"); the cell page names the cell, counts visited and unvisited houses this
cycle and filters them."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests import factories as f
from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer, log_in
from webapp.models import HouseFlag, Visit
from webapp.registry.tasks import create_task
from webapp.base.timeutil import utcnow

ROOMS = ["1001", "101", "201", "102"]


def lane_area(server: LiveServer) -> SimpleNamespace:
    """A cell on 21弄 of a road of its own: four rooms of building 1 and a dormitory."""
    tag = uuid.uuid4().hex[:6]
    # A road of its own, named in characters: digits in it would run into the lane's number.
    road = "寻址" + "".join("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳"[int(c, 16)] for c in tag) + "路"
    with Session(server.engine) as s:
        committee = f.committee(s)
        cell = f.cell(s, committee, name=f"寻址网格{tag}")
        coord = f.user(s, f"find_{tag}", "coordinator")
        cell.coordinators.append(coord)
        rooms = {r: f.house(s, cell, road=road, number="21弄", building="1", room=r) for r in ROOMS}
        dorm = f.house(s, cell, road=road, number="23", building="宿舍楼", room=None)
        s.add(Visit(house_id=rooms["101"].id, visited_at=utcnow(), outcome="verified"))
        s.add(HouseFlag(house_id=rooms["201"].id, kind="group_rent"))
        create_task(s, rooms["102"], "problem", "楼道堆物")
        s.commit()
        return SimpleNamespace(tag=tag, road=road, cell_id=str(cell.id), cell_name=cell.name, username=coord.username,
                               rooms={r: str(h.id) for r, h in rooms.items()}, dorm=str(dorm.id))


def _search(page: Page, query: str) -> list[str]:
    fa.go(page, "#/search")
    page.fill("#q", query)
    page.click("main button[type=submit]")
    expect(page.locator("#results h2")).to_be_visible()
    return page.locator("#results li").all_inner_texts()


def test_the_phone_finds_an_address_as_printed(page: Page, live_server: LiveServer) -> None:
    area = lane_area(live_server)
    fa.app_login(page, area.username)
    page.context.set_offline(True)
    printed = f"{area.road}21弄1号楼1001室"
    for query in (printed, "1001室", f"{area.road} 21弄 1号楼 １００１室", f"{area.road}二十一弄一号楼一零零一室"):
        assert _search(page, query) == [printed], query
    # The results hold only what was found: no "null" line before them.
    assert page.locator("#results").evaluate("(el) => [...el.childNodes].map((n) => n.textContent)") == \
        ["结果 (1)", printed]
    found = _search(page, f"{area.road}21弄")
    assert found == [f"{area.road}21弄1号楼{r}室" for r in ("101", "102", "201", "1001")]
    assert _search(page, "宿舍楼") == [f"{area.road}23号宿舍楼"]


def test_the_cell_page_names_counts_and_filters(page: Page, live_server: LiveServer) -> None:
    area = lane_area(live_server)
    fa.app_login(page, area.username)
    fa.wait_meta(page, "walk")
    page.context.set_offline(True)
    fa.go(page, f"#/cell/{area.cell_id}")
    expect(page.locator("main h1")).to_have_text(area.cell_name)
    expect(page.locator("#cell-total")).to_have_text("5")
    expect(page.locator("#cell-visited")).to_have_text("1")
    expect(page.locator("#cell-unvisited")).to_have_text("4")
    addresses = page.locator("#houses li strong").all_inner_texts()
    assert addresses == [f"{area.road}21弄1号楼{r}室" for r in ("101", "102", "201", "1001")] + [f"{area.road}23号宿舍楼"]

    def shown(filter_: str) -> list[str]:
        page.click(f"button[data-filter={filter_}]")
        expect(page.locator(f"button[data-filter={filter_}]")).to_have_attribute("aria-pressed", "true")
        expect(page.locator(f"#cell-houses[data-filter={filter_}]")).to_have_count(1)  # drawn
        return page.locator("#cell-houses li").evaluate_all("(els) => els.map((e) => e.dataset.house)")

    assert shown("unvisited") == [area.rooms["102"], area.rooms["201"], area.rooms["1001"], area.dorm]
    assert shown("flagged") == [area.rooms["201"]]
    assert shown("with_tasks") == [area.rooms["102"]]
    assert shown("all") == [area.rooms[r] for r in ("101", "102", "201", "1001")] + [area.dorm]
    walk = fa.meta(page, "walk")["cells"][area.cell_id]  # type: ignore[index]
    unvisited = [area.rooms["102"], area.rooms["201"], area.rooms["1001"], area.dorm]  # in address order
    # The route's order, visited houses left out; houses the route does not know (no position) after.
    expected = [h for h in walk if h in unvisited] + [h for h in unvisited if h not in walk]
    assert shown("walking") == expected
    expect(page.locator("#cell-houses ol#walk")).to_have_count(1)
    # A phone holding little more than the cell reads the stores whole, one holding much more asks
    # per house: the same rows either way.
    same = page.evaluate("""async (cell) => {
      const {db} = await import('/static/pwa/db.js'); const {houseRows} = await import('/static/pwa/store.js');
      const d = await db(); const list = await d.getAllFromIndex('house', 'cell_id', cell);
      const ids = (rows) => JSON.stringify(rows.map((per) => per.map((r) => r.map((x) => x.id).sort())));
      return [ids(await houseRows(d, list, 1)), ids(await houseRows(d, list, 1e9))];
    }""", area.cell_id)
    assert same[0] == same[1] and "[]" in same[0]
    # A visit recorded offline moves the house out of the unvisited filter and into the count.
    fa.go(page, f"#/house/{area.rooms['1001']}/visit")
    page.uncheck("[name=gps]")
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{area.rooms['1001']}")
    fa.go(page, f"#/cell/{area.cell_id}")
    expect(page.locator("#cell-visited")).to_have_text("2")
    assert shown("unvisited") == [area.rooms["102"], area.rooms["201"], area.dorm]


def test_the_console_finds_an_address_as_printed(page: Page, live_server: LiveServer) -> None:
    area = lane_area(live_server)
    log_in(page, area.username)
    printed = f"{area.road}21弄1号楼1001室"
    for query in (printed, "1001室", f"{area.road}二十一弄一号楼一零零一室"):
        page.goto(f"/search?q={query}")
        assert page.locator("ul.houses li a").all_inner_texts() == [printed], query
    page.goto(f"/search?q={area.road}21弄")
    in_order = [f"{area.road}21弄1号楼{r}室" for r in ("101", "102", "201", "1001")]
    assert page.locator("ul.houses li a").all_inner_texts() == in_order
    page.goto(f"/cells/{area.cell_id}")  # the cell's houses in the same order
    listed = [t for t in page.locator("main a").all_inner_texts() if t.startswith(area.road)]
    assert listed == [*in_order, f"{area.road}23号宿舍楼"]
