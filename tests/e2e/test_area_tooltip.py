"""A cell's name is text on the maps, never markup (issue 15, point 10): the area drawing
page's cell tooltips show a name like `<img src=x onerror=…>` as those characters.

The page runs here without its CSP (bypass_csp), so that injected markup would act: the
test must not pass only because the CSP blocks inline handlers."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests import factories as f
from tests.e2e.conftest import LiveServer, log_in

LON, LAT, SIZE = 121.30, 31.09, 0.002  # away from the other browser tests' cells
NAME = '<img src="injected-by-name" onerror="window.__injected = true">坏名字'


@pytest.fixture(scope="module")
def bad_cell(live_server: LiveServer) -> SimpleNamespace:
    with Session(live_server.engine) as s:
        f.user(s, "task_centre", "centre")
        cell = f.cell(s, f.committee(s, name="标签居委"), name=NAME, boundary={"type": "Polygon", "coordinates": [[
            [LON, LAT], [LON + SIZE, LAT], [LON + SIZE, LAT + SIZE], [LON, LAT + SIZE], [LON, LAT]]]})
        s.commit()
        return SimpleNamespace(code=cell.code)


@pytest.mark.browser_context_args(bypass_csp=True)
def test_a_cell_name_with_markup_is_shown_as_text(page: Page, live_server: LiveServer,
                                                  bad_cell: SimpleNamespace) -> None:
    log_in(page, "task_centre")
    page.goto("/campaigns/new")
    page.locator("input[name=area_kind][value=polygon]").check()
    expect(page.locator("#area-map[data-ready=true]")).to_be_attached()
    outline = page.locator(f'path.draw-cell[data-cell-code="{bad_cell.code}"]')
    expect(outline).to_be_attached()
    page.locator("#area-map").evaluate("el => el.scrollIntoView()")
    box = outline.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator(".leaflet-tooltip", has_text="坏名字")
    expect(tooltip).to_have_text(f"{bad_cell.code} {NAME}")
    expect(tooltip.locator("img")).to_have_count(0)
    assert page.locator("#area-map img[src*=injected]").count() == 0
    assert page.evaluate("() => window.__injected === undefined")
    assert not [r for r in live_server.requests if "injected-by-name" in r.path]
