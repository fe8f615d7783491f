"""Plates point at a server phones reach (issue 16 §8), and the console leads to the app (§10).

- The plate pages warn while PUBLIC_BASE_URL names this machine only; a LAN address prints
  plates whose QR opens it, and no warning.
- A coordinator's and a grid lead's console home show the field app's address and a QR of it;
  the centre's does not. Every console page has an icon that loads (no 404 for /favicon.ico).
"""
from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

import cairosvg
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.orm import Session

from tests import factories as f
from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer, log_in
from webapp.models import Cell


def _decoded(page: Page, url: str) -> list[str]:
    svg = page.request.get(url).body()
    image = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg, output_width=400)))
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN")
    yield ctx
    ctx.close()


@pytest.fixture
def base_url(live_server: LiveServer) -> Iterator[Any]:
    before = live_server.app.config["PUBLIC_BASE_URL"]
    yield live_server.app.config
    live_server.app.config["PUBLIC_BASE_URL"] = before


def test_a_plate_warns_while_its_qr_leads_to_this_machine_only(context: BrowserContext, live_server: LiveServer,
                                                               base_url: Any) -> None:
    area = fa.coordinator_area(live_server, houses=1)
    page = context.new_page()
    log_in(page, area.username)
    for local in ("http://127.0.0.1:5000", "http://localhost:58201", "http://0.0.0.0:58201"):
        base_url["PUBLIC_BASE_URL"] = local
        page.goto(f"/plates/houses/{area.houses[0]}")
        expect(page.locator("#base-url-warning")).to_contain_text(local)
        assert _decoded(page, f"/plates/houses/{area.houses[0]}/qr.svg") == [f"{local}/h/{area.codes[0]}"]
    page.goto(f"/plates/cells/{area.cell_id}")
    expect(page.locator("#base-url-warning")).to_be_visible()
    base_url["PUBLIC_BASE_URL"] = "http://192.168.1.20:58201"
    page.goto(f"/plates/houses/{area.houses[0]}")
    expect(page.locator("#base-url-warning")).to_have_count(0)
    assert _decoded(page, f"/plates/houses/{area.houses[0]}/qr.svg") == [f"http://192.168.1.20:58201/h/{area.codes[0]}"]
    page.goto(f"/plates/cells/{area.cell_id}")
    expect(page.locator("#base-url-warning")).to_have_count(0)


def test_the_console_home_leads_coordinators_and_leads_to_the_app(context: BrowserContext, live_server: LiveServer,
                                                                 base_url: Any) -> None:
    base_url["PUBLIC_BASE_URL"] = "http://192.168.1.20:58201"
    area = fa.coordinator_area(live_server, houses=1)
    with Session(live_server.engine) as s:
        lead = f.user(s, f"gl_link_{area.tag}", "grid_lead")
        cell = s.get(Cell, uuid.UUID(area.cell_id))
        assert cell is not None
        cell.grid_lead_id = lead.id
        centre = f.user(s, f"centre_link_{area.tag}", "centre")
        s.commit()
        users = {"coordinator": area.username, "grid_lead": lead.username, "centre": centre.username}
    for role, username in users.items():
        page = context.new_page()
        log_in(page, username)
        page.goto("/")
        box = page.locator("#app-link")
        if role == "centre":
            expect(box).to_have_count(0)
        else:
            expect(box.locator("a")).to_have_text("http://192.168.1.20:58201/app/")
            expect(box.locator("img")).to_have_attribute("alt", "http://192.168.1.20:58201/app/ 的二维码")
            assert _decoded(page, box.locator("img").get_attribute("src") or "") == ["http://192.168.1.20:58201/app/"]
            expect(box.locator(".warn")).to_have_count(0)
        context.clear_cookies()
        page.close()


def test_every_console_page_has_an_icon(context: BrowserContext, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server, houses=1)
    page = context.new_page()
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    log_in(page, area.username)
    for path in ("/", f"/cells/{area.cell_id}", f"/houses/{area.houses[0]}", "/coverage"):
        page.goto(path)
        icon = page.locator("link[rel=icon]").get_attribute("href")
        assert icon and page.request.get(icon).status == 200
    assert page.request.get("/favicon.ico").status == 200
    assert page.request.get("/favicon.ico").headers["content-type"] == "image/png"
    assert missing == []
