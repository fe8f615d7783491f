"""/statistics in a real browser: each chart, as drawn, says what its table says (the marks'
values, and bar lengths in proportion to them); a bar opens the residents behind it;
accessibility, a phone's width, nothing fetched from elsewhere."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import valid_id
from tests.e2e.conftest import LiveServer, log_in, run_axe

BAR_CHARTS = ("category", "sex", "age", "province", "permits", "use", "unit_kind", "findings")


@pytest.fixture(scope="module")
def people(live_server: LiveServer) -> SimpleNamespace:
    """A statistics lead `st_lead` with one cell of 30 residents of every category and age."""
    with Session(live_server.engine) as s:
        committee = f.committee(s, name="统计居委")
        lead = f.user(s, "st_lead", "grid_lead")
        cell = f.cell(s, committee, grid_lead_id=lead.id)
        houses = [f.house(s, cell, use=use) for use in ("rented", "owner_occupied", "rented", "idle")]
        categories = ("huji", "separated", "migrant", "overseas")
        for n in range(30):
            person = f.person(s, name=f"统计{n}", id_number=valid_id(f"34010219{40 + n * 2}0101{n:03d}"),
                              category=categories[n % 4], hukou_region="340102" if n % 3 else "510104")
            f.residency(s, person, houses[n % 4], start_date=date(2024, 1, 1))
        s.commit()
        return SimpleNamespace(cell=str(cell.id))


def _open(page: Page) -> None:
    log_in(page, "st_lead")
    page.goto("/statistics")
    expect(page.locator("h1")).to_contain_text("统计")


READ = """(chart) => {
  const svg = document.querySelector(`svg[data-chart="${chart}"]`);
  const marks = [...svg.querySelectorAll(".mark")].map((g) => ({
    key: g.dataset.key, value: Number(g.dataset.value),
    width: g.querySelector("rect").getBoundingClientRect().width,
  }));
  const rows = [...document.querySelectorAll(`table[data-chart="${chart}"] tbody tr`)].map((tr) => ({
    key: tr.dataset.key, value: Number(tr.querySelector("td[data-value]").dataset.value),
  }));
  return {marks, rows};
}"""


def test_every_chart_draws_what_its_table_says(page: Page, people: SimpleNamespace) -> None:
    _open(page)
    for chart in BAR_CHARTS:
        drawn = page.evaluate(READ, chart)
        assert [(m["key"], m["value"]) for m in drawn["marks"]] == [(r["key"], r["value"]) for r in drawn["rows"]], chart
        biggest = max(drawn["marks"], key=lambda m: m["value"])
        if not biggest["value"]:
            assert all(m["width"] == 0 for m in drawn["marks"]), chart
            continue
        for mark in drawn["marks"]:
            # Lengths in proportion to the values (to a pixel): the picture does not exaggerate.
            assert abs(mark["width"] - biggest["width"] * mark["value"] / biggest["value"]) <= 1.0, (chart, mark)
    category = {r["key"]: r["value"] for r in page.evaluate(READ, "category")["rows"]}
    assert category == {"huji": 8, "separated": 8, "migrant": 7, "overseas": 7}
    pyramid = page.evaluate("""() => {
      const marks = Object.fromEntries([...document.querySelectorAll('svg[data-chart="pyramid"] .mark')]
        .map((g) => [g.dataset.key, Number(g.dataset.value)]));
      const cells = Object.fromEntries([...document.querySelectorAll('table[data-chart="pyramid"] td[data-key]')]
        .map((td) => [td.dataset.key, Number(td.dataset.value)]));
      return {marks, cells};
    }""")
    assert pyramid["marks"] == pyramid["cells"] and sum(pyramid["marks"].values()) == 30


def test_a_bar_opens_the_residents_behind_it(page: Page, people: SimpleNamespace) -> None:
    _open(page)
    page.locator('svg[data-chart="category"] .mark[data-key="migrant"] a').click()
    expect(page.locator("h1")).to_contain_text("共 7 人")
    expect(page.locator("main table tbody tr")).to_have_count(7)
    # A lead sees ID numbers masked.
    assert "*" in page.locator("main table tbody tr td.mono").first.inner_text()


def test_only_our_origin_and_no_script_errors(page: Page, live_server: LiveServer, people: SimpleNamespace) -> None:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    _open(page)
    page.wait_for_load_state("networkidle")
    assert [u for u in seen if not u.startswith(live_server.url + "/")] == []
    assert problems == []


@pytest.mark.browser_context_args(bypass_csp=True)
def test_no_wcag_a_or_aa_violations(page: Page, people: SimpleNamespace) -> None:
    _open(page)
    assert run_axe(page) == []


def test_works_at_360_px(browser: Browser, live_server: LiveServer, people: SimpleNamespace) -> None:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 360, "height": 740},
                                  is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        _open(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        box = page.locator('svg[data-chart="category"]').bounding_box()
        assert box is not None and 250 <= box["width"] <= 360
    finally:
        context.close()
