"""A forgotten PIN: the only way back is logging in again online (the server checks the password);
offline, with a wrong password, or as another coordinator it opens nothing. Recovered, the same
data key comes back (the queued changes and the encrypted ID numbers are kept) under a new PIN."""
from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Device, Person, User

NEW_PIN = "135792"


def _recover(page: Page, username: str, password: str, pin: str = NEW_PIN) -> None:
    page.fill("[name=username]", username)
    page.fill("[name=password]", password)
    page.fill("[name=pin]", pin)
    page.fill("[name=pin2]", pin)
    page.click("#login-go")


def _still_locked(page: Page, secrets: list[str]) -> None:
    assert page.evaluate("() => window.gridwalk.sync('probe')") == {"skipped": "locked"}
    text = page.locator("#view").inner_text()
    assert not [s for s in secrets if s in text], text


def test_forgotten_pin_is_recovered_online_only(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    other = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    house = area.houses[0]
    fa.block_sync(page)
    name, number = f"忘码{uuid.uuid4().hex[:4]}", fa.fresh_id()
    fa.add_occupant(page, house, name, number)
    secrets = [name, area.person_name, number, area.person_id_number]
    page.evaluate("() => window.gridwalk.lock()")
    page.fill("[name=pin]", "9999")
    page.click("#unlock-go")
    expect(page.locator('[data-error-for="pin"]')).to_have_text("PIN码错误，还可尝试4次")

    page.click("#forgot")
    fa.wait(page, "location.hash === '#/recover'")
    expect(page.locator("h1")).to_have_text("忘记PIN码：联网重新登录")
    # Offline: the password cannot be checked, so nothing opens.
    page.context.set_offline(True)
    _recover(page, area.username, "pw")
    expect(page.locator('[data-error-for="password"]')).to_have_text("首次登录需要联网")
    _still_locked(page, secrets)
    page.context.set_offline(False)
    # A wrong password: refused by the server.
    _recover(page, area.username, "not-the-password")
    expect(page.locator('[data-error-for="password"]')).to_have_text("用户名或密码错误")
    _still_locked(page, secrets)
    # Another coordinator's good login does not inherit this phone's queued work or records.
    _recover(page, other.username, "pw")
    expect(page.locator('[data-error-for="username"]')).to_have_text("本机还有其他协管员未同步的数据：请其先同步或导出")
    _still_locked(page, secrets)
    device = page.evaluate("async () => (await import('/static/pwa/db.js')).getMeta('device')")
    assert device["user"]["username"] == area.username
    assert _live_devices(live_server, other.username) == []  # the refused login's device was ended
    # Any page of the app asks for the PIN, not shows data.
    fa.go(page, f"#/house/{house}")
    expect(page.locator("#unlock-go")).to_be_visible()
    _still_locked(page, secrets)

    fa.go(page, "#/recover")
    _recover(page, area.username, "pw")
    fa.wait(page, "location.hash === '#/cells'")
    # Logging in again made this phone a new device; the old one's token is ended, not left live.
    now = page.evaluate("async () => (await import('/static/pwa/db.js')).getMeta('device')")
    assert now["device_id"] != device["device_id"]
    assert _live_devices(live_server, area.username) == [now["device_id"]]
    assert len(fa.outbox(page)) == 2  # the queued changes survived, still sealed under the same key
    fa.go(page, f"#/house/{house}/person/{_person_id(page, name)}/edit")
    expect(page.locator("[name=id_number]")).to_have_value(number)  # decrypts: the data key was kept

    # The old PIN is gone, the new one works.
    page.evaluate("() => window.gridwalk.lock()")
    page.fill("[name=pin]", fa.PIN)
    page.click("#unlock-go")
    expect(page.locator('[data-error-for="pin"]')).to_have_text("PIN码错误，还可尝试4次")
    page.fill("[name=pin]", NEW_PIN)
    page.click("#unlock-go")
    fa.wait(page, "!document.querySelector('#unlock-go')")

    fa.unblock_sync(page)
    fa.sync(page)
    assert fa.last_sync(page)["ok"] and fa.outbox(page) == []
    with Session(live_server.engine) as s:
        assert s.scalar(select(func.count()).select_from(Person).where(Person.id_number == number)) == 1


def _live_devices(live_server: LiveServer, username: str) -> list[str]:
    with Session(live_server.engine) as s:
        return [str(d) for d in s.scalars(select(Device.id).join(User, User.id == Device.user_id).where(
            User.username == username, Device.revoked_at.is_(None)))]


def _person_id(page: Page, name: str) -> str:
    return page.evaluate("""async (name) => {
      const d = await (await import('/static/pwa/db.js')).db();
      return (await d.getAll('person')).find((p) => p.name === name).id;
    }""", name)
