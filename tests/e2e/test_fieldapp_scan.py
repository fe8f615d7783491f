"""Plates: a fake camera showing a plate our app printed opens that house; typed codes are
checked; a plate link (/h/<code>) opens the app's house page offline on a registered phone."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import BrowserType, Page, expect

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import CHROMIUM, LiveServer
from webapp.registry.plates import plate_url, qr_matrix

W, H = 640, 480


def write_y4m(path: Path, url: str, frames: int = 5) -> None:
    """A greyscale 640×480 Y4M video of the plate's QR (quiet zone included)."""
    matrix = qr_matrix(url)
    scale = min(W, H) * 9 // 10 // len(matrix)
    side = scale * len(matrix)
    image = Image.new("L", (W, H), 255)
    qr = Image.new("L", (len(matrix), len(matrix)), 255)
    qr.putdata([0 if dark else 255 for row in matrix for dark in row])
    image.paste(qr.resize((side, side), Image.NEAREST), ((W - side) // 2, (H - side) // 2))
    chroma = bytes([128]) * (W // 2 * H // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{W} H{H} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + image.tobytes() + chroma + chroma)


@pytest.fixture
def camera_page(browser_type: BrowserType, live_server: LiveServer, tmp_path: Path) -> Iterator[tuple[Page, Any]]:
    area = fa.coordinator_area(live_server, houses=3)
    video = tmp_path / "plate.y4m"
    write_y4m(video, plate_url(live_server.app.config["PUBLIC_BASE_URL"], area.codes[1]))
    browser = browser_type.launch(executable_path=CHROMIUM, args=[
        "--disable-gpu", "--disable-quic", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", permissions=["camera"])
    try:
        yield context.new_page(), area
    finally:
        context.close()
        browser.close()


def test_camera_scan_opens_the_right_house(camera_page: tuple[Page, Any], live_server: LiveServer) -> None:
    page, area = camera_page
    fa.app_login(page, area.username)
    fa.go(page, "#/scan")
    page.click("#scan-start")
    fa.wait(page, "location.hash === arg", f"#/house/{area.houses[1]}?scanned=1")
    page.click("#act-visit")
    expect(page.locator("[name=plate_scanned]")).to_be_checked()
    assert page.evaluate("() => typeof self.jsQR") == "function"  # no BarcodeDetector here: the npm decoder ran


def test_typed_codes_and_unknown_plates(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    fa.go(page, "#/scan")
    code = area.codes[0]
    typo = code[:3] + ("A" if code[3] != "A" else "B") + code[4:]
    page.fill("[name=code]", typo)
    page.click("#open-code")
    expect(page.locator("[data-error-for=code]")).to_contain_text("校验不通过")
    page.fill("[name=code]", area.outside_code)
    page.click("#open-code")
    expect(page.locator("[data-error-for=code]")).to_contain_text("不在您的网格内")
    page.fill("[name=code]", code.lower())
    page.click("#open-code")
    fa.wait(page, "location.hash === arg", f"#/house/{area.houses[0]}")


def test_plate_link_opens_the_app_offline(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    page.context.set_offline(True)
    try:
        response = page.goto(f"/h/{area.codes[1]}")
        assert response is not None and response.from_service_worker
        fa.unlock(page)
        fa.wait(page, "location.pathname === '/app/' && location.hash === arg", f"#/house/{area.houses[1]}?scanned=1")
        expect(page.locator("h1")).to_contain_text("谷阳北路101号")
    finally:
        page.context.set_offline(False)
