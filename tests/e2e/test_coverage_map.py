"""The coverage map in a real browser: colours, the cell panel, accessibility, 360 px, and
nothing fetched from outside our origin."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from tests import factories as f
from tests.e2e.conftest import LiveServer, log_in, run_axe
from webapp.coverage.bands import BY_KEY
from webapp.models import Cycle, Visit
from webapp.base.timeutil import local_today

SIZE = 0.002  # cell side in degrees (~200 m): the map opens zoomed in enough for house dots


def _square(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[
        [lon, lat], [lon + SIZE, lat], [lon + SIZE, lat + SIZE], [lon, lat + SIZE], [lon, lat]]]}


@pytest.fixture(scope="module")
def fixture_area(live_server: LiveServer) -> SimpleNamespace:
    """Grid lead `map_lead` leads three cells side by side: 0 of 2 houses visited (red),
    3 of 5 (amber), 2 of 2 (green). A fourth cell, of another committee, is not theirs."""
    now = datetime.now(timezone.utc)
    today = local_today()  # Shanghai's date: visits at "now" fall on it
    with Session(live_server.engine) as s:
        committee, other = f.committee(s, name="地图居委"), f.committee(s, name="别的居委")
        lead = f.user(s, "map_lead", "grid_lead", display_name="地图网格长")
        coord = f.user(s, "map_coord", "coordinator")
        s.add(Cycle(name=f"e2e-{today:%Y-%m}", kind="month", starts_on=today - timedelta(days=3),
                    ends_on=today + timedelta(days=3)))
        cells, unvisited, walk = {}, {}, itertools.count(1)
        for i, (key, total, visited) in enumerate([("low", 2, 0), ("mid", 5, 3), ("high", 2, 2)]):
            lon, lat = 121.23 + i * SIZE, 31.03
            cell = f.cell(s, committee, name=f"{key}格", grid_lead_id=lead.id, boundary=_square(lon, lat))
            houses = [f.house(s, cell, lon=lon + SIZE * (k + 1) / (total + 1), lat=lat + SIZE / 2)
                      for k in range(total)]
            for house in houses[:visited]:
                # Scanned, a walk apart: verified (geo.plausibility), so every dot is "visited".
                s.add(Visit(house_id=house.id, user_id=coord.id, visited_at=now - timedelta(minutes=15 * next(walk)),
                            outcome="verified", plate_scanned=True))
            cells[key], unvisited[key] = cell, houses[visited:]
        outside = f.cell(s, other, name="外格", boundary=_square(121.23, 31.03 + SIZE))
        f.house(s, outside, lon=121.231, lat=31.03 + SIZE * 1.5)
        s.commit()
        return SimpleNamespace(
            codes={k: c.code for k, c in cells.items()}, ids={k: str(c.id) for k, c in cells.items()},
            unvisited={k: {str(h.id) for h in hs} for k, hs in unvisited.items()},
            outside_code=outside.code,
        )


def _click_cell(page: Page, code: str) -> None:
    # Near a corner: the middle of a cell may hold a house dot, which opens its own popup.
    page.locator(f'path[data-cell-code="{code}"]').click(position={"x": 6, "y": 6})


def _open_map(page: Page) -> None:
    log_in(page, "map_lead")
    page.goto("/coverage")
    expect(page.locator("#coverage-map[data-ready=true]")).to_be_attached()


def test_cells_are_coloured_by_coverage_and_open_their_numbers(page: Page, fixture_area: SimpleNamespace) -> None:
    _open_map(page)
    shapes = page.locator("path.cell-shape")
    expect(shapes).to_have_count(3)  # the other committee's cell is not sent, so not drawn
    assert page.locator(f'path[data-cell-code="{fixture_area.outside_code}"]').count() == 0
    for key in ("low", "mid", "high"):
        path = page.locator(f'path[data-cell-code="{fixture_area.codes[key]}"]')
        assert path.get_attribute("fill") == BY_KEY[key].fill, key
        assert path.get_attribute("stroke") == BY_KEY[key].stroke, key

    _click_cell(page, fixture_area.codes["mid"])
    panel = page.locator("#cell-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#cell-panel-title")).to_have_text(f"{fixture_area.codes['mid']} mid格")
    expect(panel.locator("[data-field=houses]")).to_have_text("5")
    expect(panel.locator("[data-field=visited]")).to_have_text("3")
    expect(panel.locator("[data-field=percent]")).to_have_text("60%")
    expect(panel.locator("[data-field=unvisited-count]")).to_have_text("2")
    links = panel.locator(".unvisited a")
    expect(links).to_have_count(2)
    hrefs = {links.nth(i).get_attribute("href") for i in range(2)}
    assert hrefs == {f"/houses/{hid}" for hid in fixture_area.unvisited["mid"]}
    # Zoomed in on ~200 m cells, the houses of the cells in view are drawn as dots.
    expect(page.locator("path.house-dot.dot-unvisited")).not_to_have_count(0)
    expect(page.locator("path.house-dot.dot-visited")).not_to_have_count(0)
    expect(page.locator("path.house-dot.dot-unverified")).to_have_count(0)


def test_only_our_origin_is_contacted(page: Page, live_server: LiveServer, fixture_area: SimpleNamespace) -> None:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    before = len(live_server.requests)
    _open_map(page)
    _click_cell(page, fixture_area.codes["low"])
    expect(page.locator("#cell-panel [data-field=houses]")).to_have_text("2")
    page.wait_for_load_state("networkidle")
    outside = [url for url in seen if not url.startswith(live_server.url + "/") and not url.startswith("data:")]
    assert outside == []
    assert problems == []  # no CSP violation, no script error
    served = [r for r in live_server.requests[before:]]
    assert {r.remote_addr for r in served} == {"127.0.0.1"}
    paths = {r.path for r in served}
    assert "/coverage/data.json" in paths and f"/coverage/cells/{fixture_area.ids['low']}.json" in paths
    assert any(p.startswith("/vendor/leaflet/") and p.endswith("/leaflet.js") for p in paths)


@pytest.mark.browser_context_args(bypass_csp=True)
def test_no_wcag_a_or_aa_violations(page: Page, fixture_area: SimpleNamespace) -> None:
    _open_map(page)
    _click_cell(page, fixture_area.codes["high"])
    expect(page.locator("#cell-panel")).to_be_visible()
    assert run_axe(page) == []


def test_works_at_360_px(browser: Browser, live_server: LiveServer, fixture_area: SimpleNamespace) -> None:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                  viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        _open_map(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
        box = page.locator("#coverage-map").bounding_box()
        assert box is not None and box["width"] <= 360 and box["height"] >= 250
        # The table's cell buttons open the same panel (and are the keyboard/touch route).
        page.locator(f'button.cell-link[data-cell-id="{fixture_area.ids["low"]}"]').tap()
        expect(page.locator("#cell-panel [data-field=percent]")).to_have_text("0%")
        panel = page.locator("#cell-panel").bounding_box()
        assert panel is not None and panel["x"] >= 0 and panel["x"] + panel["width"] <= 360
    finally:
        context.close()
