"""The field app door to door with no signal: login, offline reload, changes queued, a closed
and reopened page, then one sync that writes exactly those changes to the registry, once."""
from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Person, Residency, SyncMutation, Visit


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Any:
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", permissions=["geolocation"],
                              geolocation={"latitude": 31.03, "longitude": 121.23, "accuracy": 20})
    yield ctx
    ctx.close()


def test_offline_round_trip(context: Any, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    fa.app_login(page, area.username)
    house = area.houses[0]
    fa.go(page, f"#/house/{house}")
    expect(page.locator("#occupants .name", has_text=area.person_name)).to_be_visible()

    context.set_offline(True)
    served_before = _app_requests(live_server)
    response = page.reload()
    assert response is not None and response.from_service_worker
    fa.unlock(page)
    ids = [fa.fresh_id() for _ in range(3)]
    names = [f"新住{area.tag}{i}" for i in range(3)]
    for name, number in zip(names, ids, strict=True):
        fa.add_occupant(page, house, name, number, phone="13900001111")
    # Edit one: a new phone.
    row = page.locator("#occupants li", has_text=names[1])
    row.get_by_role("link", name="修改").click()
    page.fill("[name=phone]", "13700002222")
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")
    # The visit, then the old occupant moves out.
    page.click("#act-visit")
    page.select_option("[name=outcome]", "verified")
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")
    page.locator("#occupants li", has_text=area.person_name).get_by_role("link", name="迁出").click()
    page.fill("[name=end_reason]", "搬走")
    page.fill("[name=end_date]", "2100-01-01")  # past the registry's days: refused here, nothing queued
    page.click("button[type=submit]")
    expect(page.locator("[data-error-for=end_date]")).to_have_text("日期应在 1900-01-01 到 2099-12-31 之间")
    assert len(fa.outbox(page)) == 8
    page.fill("[name=end_date]", page.evaluate("(async () => (await import('/static/pwa/validation.js')).shanghaiToday())()"))
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")
    expect(page.locator("#occupants li")).to_have_count(3)
    assert len(fa.outbox(page)) == 9  # 3 × (person + residency), an edit, a visit, a move-out
    page.close()

    again = context.new_page()
    again.on("request", lambda r: seen.append(r.url))
    again.goto("/app/")
    fa.unlock(again)
    fa.go(again, "#/outbox")
    expect(again.locator("#pending-count")).to_have_text("9")
    fa.go(again, f"#/house/{house}")
    for name in names:
        expect(again.locator("#occupants .name", has_text=name)).to_be_visible()
    assert _app_requests(live_server) == served_before, "nothing of the app's may reach the server while offline"

    context.set_offline(False)
    result = fa.sync(again)
    assert result["ok"], result
    assert fa.outbox(again) == []
    fa.go(again, "#/outbox")
    expect(again.locator("#pending-count")).to_have_text("0")
    assert all(u.startswith(live_server.url) for u in seen), {u for u in seen if not u.startswith(live_server.url)}

    with Session(live_server.engine) as s:
        created = s.scalars(select(Person).where(Person.name.in_(names))).all()
        assert sorted(p.name for p in created) == names
        assert {p.id_number for p in created} == set(ids)
        phones = {p.name: p.phone for p in created}
        assert phones == {names[0]: "13900001111", names[1]: "13700002222", names[2]: "13900001111"}
        assert all(p.sex == "M" and p.birth_date is not None for p in created)
        # Made on the phone (static/pwa/ids.js): time-ordered, so a push's rows share index pages.
        assert all(p.id.version == 7 for p in created)
        living = s.scalars(select(Residency).where(Residency.house_id == _uuid(house))).all()
        assert sorted((r.person_id in {p.id for p in created}, r.end_date is None) for r in living) == [
            (False, False), (True, True), (True, True), (True, True)]
        moved = next(r for r in living if str(r.person_id) == area.person_id)
        assert moved.end_reason == "搬走"
        visits = s.scalars(select(Visit).where(Visit.house_id == _uuid(house))).all()
        assert [(v.outcome, v.plate_scanned, round(v.lat or 0, 2)) for v in visits] == [("verified", False, 31.03)]
        receipts = _receipts(s, area.user_id)
        # The edit was made against the phone's own not-yet-synced create (base_version 0): the
        # server merges it field by field, as docs/sync.md says.
        assert sorted((r.record_type, r.op, r.outcome) for r in receipts if r.outcome != "applied") == [
            ("person", "update", "merged")]
        assert len(receipts) == 9


def _app_requests(server: LiveServer) -> int:
    # Chromium's own update check of the worker script (/sw.js on navigation) is not subject to
    # the offline emulation; it is the browser's, not the app's, and harmless either way.
    return sum(1 for r in server.requests if r.path != "/sw.js")


def _uuid(text: str) -> Any:
    import uuid

    return uuid.UUID(text)


def _receipts(s: Session, user_id: int) -> list[SyncMutation]:
    from webapp.models import Device

    devices = s.scalars(select(Device.id).where(Device.user_id == user_id)).all()
    return list(s.scalars(select(SyncMutation).where(SyncMutation.device_id.in_(devices))))
