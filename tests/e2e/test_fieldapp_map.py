"""An offline map of the coordinator's cells (issue 16 §9): opened with no network, it draws the
cell's outline and one marker per house from the synced data — unvisited red, visited green —,
the walking route, the phone's own position with its accuracy circle; a tap opens the house, and
a visit recorded offline turns its marker green. With MAP_TILE_URL, the tiles of the cells are
kept (zoom 15–18, within the phone's budget), drawn offline from there, and dropped when a cell
leaves the phone; with MAP_TILE_CRS=gcj02 positions are shifted for drawing as the console does."""
from __future__ import annotations

import io
import random
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.coords import wgs84_to_gcj02
from tests import factories as f
from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Cell, User, Visit
from webapp.base.timeutil import utcnow

TILES = "https://tiles.gridwalk.test/{z}/{x}/{y}.png"


def map_area(server: LiveServer, houses: int = 9) -> SimpleNamespace:
    """A coordinator with two cells; houses placed inside the first, two sharing one entrance,
    the first visited this cycle."""
    tag = uuid.uuid4().hex[:6]
    with Session(server.engine) as s:
        committee = f.committee(s)
        cells = [f.cell(s, committee, name=f"地图网格{tag}{i}") for i in range(2)]
        coord = f.user(s, f"map_{tag}", "coordinator")
        for c in cells:
            c.coordinators.append(coord)
        lon0, lat0 = cells[0].boundary["coordinates"][0][0]
        made = []
        for i in range(houses):
            spot = min(i, houses - 2)  # the last two share a point: one entrance, two flats
            made.append(f.house(s, cells[0], road="谷阳北路", number=str(200 + i), room="101",
                                lon=lon0 + 0.0003 + 0.0004 * (spot % 4), lat=lat0 + 0.0003 + 0.0004 * (spot // 4)))
        s.add(Visit(house_id=made[0].id, visited_at=utcnow(), outcome="verified"))
        s.commit()
        return SimpleNamespace(username=coord.username, user_id=coord.id, cells=[str(c.id) for c in cells],
                               houses=[str(h.id) for h in made], lon0=lon0, lat0=lat0,
                               points=[(h.lon, h.lat) for h in made])


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 360, "height": 740},
                              geolocation={"latitude": 31.0, "longitude": 121.2, "accuracy": 25}, permissions=["geolocation"])
    yield ctx
    ctx.close()


def _open_map(page: Page, cell: str) -> None:
    fa.go(page, f"#/cell/{cell}/map")
    fa.wait(page, "document.body.dataset.mapHouses !== undefined && document.querySelectorAll('.house-dot').length > 0")


def _tap(page: Page, house: str) -> None:
    """Tap a house's dot once the map holds still: a popup opened by the tap before pans the map
    to fit it (an animation), and a tap computed mid-pan lands where the dot was (seen on a
    loaded machine: the house never opened)."""
    dot = page.locator(f".house-dot[data-house='{house}']")
    before, deadline = None, time.monotonic() + 10
    while (box := dot.bounding_box()) != before and time.monotonic() < deadline:
        before = box
        page.wait_for_timeout(150)
    dot.click(force=True)


def _dots(page: Page) -> dict[str, str]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.house-dot')]
      .map((e) => [e.dataset.house, e.classList.contains('visited') ? 'visited' : 'unvisited']))""")


def test_the_map_opens_offline_and_follows_a_visit(context: BrowserContext, live_server: LiveServer) -> None:
    area = map_area(live_server)
    context.set_geolocation({"latitude": area.lat0 + 0.001, "longitude": area.lon0 + 0.001, "accuracy": 25})
    page = context.new_page()
    fa.app_login(page, area.username)
    fa.wait_meta(page, "walk")
    context.set_offline(True)
    page.reload()
    fa.unlock(page)
    _open_map(page, area.cells[0])
    assert page.evaluate("() => typeof window.L") == "object"  # Leaflet came from the worker's cache
    dots = _dots(page)
    assert set(dots) == set(area.houses)  # one marker per house of the cell
    assert dots[area.houses[0]] == "visited" and {dots[h] for h in area.houses[1:]} == {"unvisited"}
    expect(page.locator(".cell-outline.mine")).to_have_count(1)
    expect(page.locator(".cell-outline")).to_have_count(2)  # the other cell, faintly
    expect(page.locator(".walk-route")).to_have_count(1)
    expect(page.locator("path.me")).to_have_count(1)
    expect(page.locator("path.me-accuracy")).to_have_count(1)
    expect(page.locator("#map-me")).to_contain_text("精度约25米")
    expect(page.locator("#map-status")).to_have_text("未配置底图：仅显示网格边界和房屋")
    # Two flats at one entrance: a tap offers both.
    _tap(page, area.houses[-1])
    expect(page.locator(".map-choice li")).to_have_count(2)
    # One house alone: a tap opens it; a visit recorded offline turns it green.
    target = area.houses[3]
    _tap(page, target)
    fa.wait(page, "location.hash === arg", f"#/house/{target}")
    fa.go(page, f"#/house/{target}/visit")
    page.uncheck("[name=gps]")
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{target}")
    _open_map(page, area.cells[0])
    assert _dots(page)[target] == "visited"
    fill = page.locator(f".house-dot[data-house='{target}']").get_attribute("fill")
    assert fill == "#1b5e20"
    assert len(fa.outbox(page)) == 1


def _tile_png(size: int = 256) -> bytes:
    """Noise, so a tile weighs what a real one does (about 200 KB here, incompressible)."""
    rng = random.Random(4)
    image = Image.frombytes("RGB", (size, size), bytes(rng.getrandbits(8) for _ in range(size * size * 3)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class TileServer:
    """The tile host, answered by the browser context (nothing leaves the machine)."""

    def __init__(self, context: BrowserContext) -> None:
        self.body, self.asked = _tile_png(), []
        self.context = context
        context.route("https://tiles.gridwalk.test/**", self._answer)

    def _answer(self, route: Any) -> None:
        self.asked.append(route.request.url)
        route.fulfill(status=200, body=self.body, headers={"Content-Type": "image/png", "Access-Control-Allow-Origin": "*"})

    def close(self) -> None:
        self.context.unroute("https://tiles.gridwalk.test/**", self._answer)


@pytest.fixture
def tiled(live_server: LiveServer) -> Iterator[dict[str, Any]]:
    config = live_server.app.config
    before = {k: config.get(k) for k in ("MAP_TILE_URL", "MAP_TILE_CRS", "MAP_TILE_CACHE_MB")}
    config.update(MAP_TILE_URL=TILES, MAP_TILE_CRS="wgs84", MAP_TILE_CACHE_MB=30)
    yield config
    config.update(before)


WANTED = """async () => { const t = await import('/static/pwa/tiles.js');
  const {db} = await import('/static/pwa/db.js');
  return t.tilesOf(await (await db()).getAll('cell'), t.settings().crs).map((c) => t.tileUrl(t.settings().url, c)); }"""


def _kept(page: Page, n: int) -> dict[str, int]:
    """The tiles the phone keeps, once it keeps at least `n`."""
    deadline = time.monotonic() + 20
    while len(index := (fa.meta(page, "tiles") or {})) < n:
        assert time.monotonic() < deadline, (len(index), n)
        page.wait_for_timeout(100)
    return index  # type: ignore[return-value]


def test_tiles_are_kept_offline_within_the_budget_and_dropped_with_the_cell(
        context: BrowserContext, live_server: LiveServer, tiled: dict[str, Any]) -> None:
    area = map_area(live_server)
    server = TileServer(context)
    page = context.new_page()
    response = page.goto("/app/")
    assert response is not None and "https://tiles.gridwalk.test" in response.headers["content-security-policy"]
    fa.app_login(page, area.username)
    wanted = page.evaluate(WANTED)
    assert {u.split("/")[3] for u in wanted} == {"15", "16", "17", "18"}
    kept = _kept(page, len(wanted))
    assert set(kept) == set(wanted) and sum(kept.values()) == len(wanted) * len(server.body)
    server.close()
    context.set_offline(True)
    _open_map(page, area.cells[0])
    fa.wait(page, "document.querySelectorAll('.leaflet-tile-loaded').length > 0")
    assert page.evaluate("() => [...document.querySelectorAll('.leaflet-tile-loaded')].every((i) => i.src.startsWith('blob:'))")
    expect(page.locator("#map-status")).to_contain_text(f"离线底图：{len(wanted)}张")
    context.set_offline(False)

    # A cell leaves the phone: its tiles go with it at the next sync.
    with Session(live_server.engine) as s:
        cell = s.get(Cell, uuid.UUID(area.cells[1]))
        user = s.scalar(select(User).where(User.username == area.username))
        assert cell is not None and user is not None
        cell.coordinators.remove(user)
        s.commit()
    server = TileServer(context)
    fa.sync(page)
    assert area.cells[1] not in [c["id"] for c in page.evaluate(
        "async () => (await (await import('/static/pwa/db.js')).db()).getAll('cell')")]
    left = page.evaluate(WANTED)
    assert len(left) < len(wanted)
    deadline = time.monotonic() + 20
    while set(fa.meta(page, "tiles") or {}) != set(left):  # type: ignore[arg-type]
        assert time.monotonic() < deadline
        page.wait_for_timeout(100)
    cached = page.evaluate("async () => (await (await caches.open('gridwalk-tiles')).keys()).map((r) => r.url)")
    assert sorted(cached) == sorted(left)
    server.close()


def test_the_tiles_stay_within_the_phones_budget(context: BrowserContext, live_server: LiveServer,
                                                 tiled: dict[str, Any]) -> None:
    tiled["MAP_TILE_CACHE_MB"] = 1
    area = map_area(live_server)
    server = TileServer(context)
    page = context.new_page()
    fa.app_login(page, area.username)
    wanted = page.evaluate(WANTED)
    fits = (1024 * 1024) // len(server.body)
    assert len(wanted) > fits
    _kept(page, fits)
    page.wait_for_timeout(500)  # nothing more comes: the budget is spent
    kept: dict[str, int] = fa.meta(page, "tiles")  # type: ignore[assignment]
    assert sum(kept.values()) <= 1024 * 1024
    assert sorted(kept) == sorted(wanted[:fits])  # lowest zoom first: the whole cell before the detail
    server.close()


def test_gcj02_tiles_shift_what_is_drawn(context: BrowserContext, live_server: LiveServer, tiled: dict[str, Any]) -> None:
    tiled["MAP_TILE_CRS"] = "gcj02"
    area = map_area(live_server, houses=3)
    server = TileServer(context)
    page = context.new_page()
    fa.app_login(page, area.username)
    _open_map(page, area.cells[0])
    # Each marker is drawn where the console draws that house on GCJ-02 tiles (geo/coords.py).
    for house, (lon, lat) in zip(area.houses, area.points, strict=True):
        drawn = page.locator(f".house-dot[data-house='{house}']")
        g_lon, g_lat = wgs84_to_gcj02(lon, lat)
        assert float(drawn.get_attribute("data-lng") or 0) == pytest.approx(g_lon, abs=1e-9)
        assert float(drawn.get_attribute("data-lat") or 0) == pytest.approx(g_lat, abs=1e-9)
        assert abs(g_lon - lon) > 1e-4  # a shift of hundreds of metres, not nothing
    # The same algorithm as the console's, over the district and beyond China's box.
    points = [(121.0 + i * 0.05, 30.8 + i * 0.03) for i in range(10)] + [(2.35, 48.85)]
    js = page.evaluate("async (ps) => { const {toGcj02} = await import('/static/pwa/gcj02.js'); return ps.map(([a, b]) => toGcj02(a, b)); }",
                       points)
    for (lon, lat), got in zip(points, js, strict=True):
        assert got == pytest.approx(list(wgs84_to_gcj02(lon, lat)), abs=1e-9)
    server.close()
