"""The PIN and the phone's login (issue 15 §6, device tokens): a PIN has at least 6 digits; 5
wrong PINs in a row destroy the PIN-wrapped key, so only an online login (username, password,
new PIN) opens the app again — with the outbox intact and pushed after it; the screen says how
many tries are left. Logging in again sends `replaces` (the phone's previous token); refusals
of the login and an expired token say what to do, in Chinese first."""
from __future__ import annotations

import json
import uuid

from playwright.sync_api import Page, Route, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from tests.e2e.test_fieldapp_pin_recovery import _live_devices
from webapp.models import Person

DESTROYED_ZH = "PIN码已连续输错5次，本机已锁定：请联网用用户名和密码重新登录并设置新的PIN码，待同步数据会保留"
NEW_PIN = "975310"


def _login_form(page: Page, username: str, password: str, pin: str) -> None:
    page.fill("[name=username]", username)
    page.fill("[name=password]", password)
    page.fill("[name=pin]", pin)
    page.fill("[name=pin2]", pin)
    page.click("#login-go")


def _vault(page: Page) -> dict:
    return fa.meta(page, "vault")  # type: ignore[return-value]


def test_five_wrong_pins_destroy_the_pin_key_until_an_online_login(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    first_device = fa.meta(page, "device")["device_id"]  # type: ignore[index]
    fa.block_sync(page)
    name, number = f"五错{uuid.uuid4().hex[:4]}", fa.fresh_id()
    fa.add_occupant(page, area.houses[0], name, number)
    queued = [e["id"] for e in fa.outbox(page)]
    assert len(queued) == 2
    page.evaluate("() => window.gridwalk.lock()")

    for left in (4, 3, 2):
        page.fill("[name=pin]", "000000")
        page.click("#unlock-go")
        expect(page.locator('[data-error-for="pin"]')).to_have_text(f"PIN码错误，还可尝试{left}次")
    page.click("#lang")  # English through the language switch, like every string
    page.fill("[name=pin]", "111111")
    page.click("#unlock-go")
    expect(page.locator('[data-error-for="pin"]')).to_have_text("Wrong PIN. Tries left: 1")
    page.click("#lang")
    # The fifth wrong PIN in a row: the PIN-wrapped copy of the key is gone from storage.
    page.fill("[name=pin]", "222222")
    page.click("#unlock-go")
    expect(page.locator("#login-why")).to_have_text(DESTROYED_ZH)
    vault = _vault(page)
    assert "byPin" not in vault and vault["byPassword"]["wrapped"], vault
    # Even the right PIN cannot be tried any more: every screen is the online login.
    page.reload()
    fa.wait_ready(page)
    expect(page.locator("#login-why")).to_have_text(DESTROYED_ZH)
    expect(page.locator("#unlock-go")).to_have_count(0)
    fa.go(page, f"#/house/{area.houses[0]}")
    expect(page.locator("#login-go")).to_be_visible()
    assert page.evaluate("() => window.gridwalk.sync('probe')") == {"skipped": "locked"}
    assert [e["id"] for e in fa.outbox(page)] == queued

    # A short PIN is refused here as anywhere.
    _login_form(page, area.username, "pw", "12345")
    expect(page.locator('[data-error-for="pin"]')).to_have_text("PIN码应为6至12位数字")
    # The online login: the same data key comes back (password-wrapped copy), under a new PIN.
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data or "{}")) if r.url.endswith("/api/devices") else None)
    _login_form(page, area.username, "pw", NEW_PIN)
    fa.wait(page, "location.hash === '#/cells'")
    assert sent and sent[-1].get("replaces"), "the previous token goes with the new login"
    device = fa.meta(page, "device")["device_id"]  # type: ignore[index]
    assert _live_devices(live_server, area.username) == [device] and device != first_device
    assert [e["id"] for e in fa.outbox(page)] == queued  # intact, still sealed under the same key
    fa.go(page, f"#/house/{area.houses[0]}/person/{_person_id(page, name)}/edit")
    expect(page.locator("[name=id_number]")).to_have_value(number)
    assert _vault(page)["failures"] == 0

    fa.unblock_sync(page)
    assert fa.sync(page)["ok"]
    assert fa.outbox(page) == []
    with Session(live_server.engine) as s:
        assert s.scalar(select(func.count()).select_from(Person).where(Person.id_number == number)) == 1
    # And the new PIN opens it.
    page.evaluate("() => window.gridwalk.lock()")
    page.fill("[name=pin]", NEW_PIN)
    page.click("#unlock-go")
    fa.wait(page, "!document.querySelector('#unlock-go')")


def test_a_right_pin_resets_the_count(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    for _ in range(2):
        page.evaluate("() => window.gridwalk.lock()")
        for left in (4, 3, 2, 1):
            page.fill("[name=pin]", "000000")
            page.click("#unlock-go")
            expect(page.locator('[data-error-for="pin"]')).to_have_text(f"PIN码错误，还可尝试{left}次")
        fa.unlock(page)  # four wrong, then the right one: in a row means in a row
    assert _vault(page)["failures"] == 0 and "byPin" in _vault(page)


def test_pins_shorter_than_six_digits_are_refused(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    page.goto("/app/")
    fa.wait_ready(page)
    expect(page.locator("label", has_text="设置PIN码（6–12位数字）")).to_be_visible()
    for short in ("1234", "12345"):
        _login_form(page, area.username, "pw", short)
        expect(page.locator('[data-error-for="pin"]')).to_have_text("PIN码应为6至12位数字")
    assert fa.meta(page, "device") is None  # refused before anything was registered
    _login_form(page, area.username, "pw", "123456")
    fa.wait(page, "location.hash === '#/cells'")


def _answer(status: int, code: str, **extra: object) -> object:
    def handle(route: Route) -> None:
        route.fulfill(status=status, content_type="application/problem+json",
                      body=json.dumps({"status": status, "code": code, "detail": code, **extra}))
    return handle


def test_refused_logins_say_why(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    page.goto("/app/")
    fa.wait_ready(page)
    for status, code, zh in [
        (409, "too_many_devices", "此账号已有两台手机在用：请在旧手机上退出，或请居委会/中心在控制台停用旧手机"),
        (403, "role_no_device", "派出所和社区报告员账号不能登记采集手机：派出所请在电脑上使用控制台，报告员请在网页上报告"),
        (403, "password_change_required", "此账号使用的是临时密码：请先在控制台修改密码，再用新密码登录"),
        (429, "too_many_attempts", "登录失败次数过多，请30秒后再试"),
    ]:
        page.route("**/api/devices", _answer(status, code, retry_after=30))
        _login_form(page, area.username, "pw", fa.PIN)
        expect(page.locator('[data-error-for="password"]')).to_have_text(zh)
        page.unroute("**/api/devices")
    assert fa.meta(page, "device") is None


def test_an_expired_token_asks_for_a_login_and_keeps_the_outbox(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    fa.block_sync(page)
    name, number = f"过期{uuid.uuid4().hex[:4]}", fa.fresh_id()
    fa.add_occupant(page, area.houses[0], name, number)
    fa.unblock_sync(page)
    # The server ended the token after 30 days without a sync.
    page.route("**/api/sync/**", _answer(401, "device_expired"))
    fa.sync(page)
    assert fa.last_sync(page)["error"] == "device_expired"
    expect(page.locator("#login-why")).to_have_text("本机已超过30天未同步，登录已失效：请联网重新登录，待同步数据会保留并在登录后上传")
    assert len(fa.outbox(page)) == 2
    page.unroute("**/api/sync/**")
    _login_form(page, area.username, "pw", fa.PIN)
    fa.wait(page, "location.hash === '#/cells'")
    fa.sync(page)
    assert fa.outbox(page) == []
    with Session(live_server.engine) as s:
        assert s.scalar(select(func.count()).select_from(Person).where(Person.id_number == number)) == 1


def _person_id(page: Page, name: str) -> str:
    return page.evaluate("""async (name) => {
      const d = await (await import('/static/pwa/db.js')).db();
      return (await d.getAll('person')).find((p) => p.name === name).id;
    }""", name)
