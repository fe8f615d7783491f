"""Sync between phones and the centre: a conflict from two phones, two tabs never pushing the
same outbox twice, and a service-worker update taken only when the user accepts it."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer, log_in
from webapp.models import Conflict, Device, Person, SyncMutation


@pytest.fixture
def contexts(browser: Browser, live_server: LiveServer) -> Iterator[list[Any]]:
    made = [browser.new_context(base_url=live_server.url, locale="zh-CN") for _ in range(2)]
    yield made
    for c in made:
        c.close()


def _edit_phone(page: Page, house: str, person: str, phone: str) -> None:
    fa.go(page, f"#/house/{house}/person/{person}/edit")
    page.fill("[name=phone]", phone)
    page.click("button[type=submit]")
    fa.wait(page, "location.hash === arg", f"#/house/{house}")


def _receipts(server: LiveServer, username: str) -> list[SyncMutation]:
    with Session(server.engine) as s:
        devices = s.scalars(select(Device.id).join(Device.user).where(Device.user.has(username=username))).all()
        return list(s.scalars(select(SyncMutation).where(SyncMutation.device_id.in_(devices))))


def test_conflict_from_two_phones_reaches_phone_and_centre(contexts: list[Any], live_server: LiveServer,
                                                          page: Page) -> None:
    area = fa.coordinator_area(live_server)
    phones = [c.new_page() for c in contexts]
    for p in phones:
        fa.app_login(p, area.username)
    for c in contexts:
        c.set_offline(True)
    for p, phone in zip(phones, ["13611110000", "13622220000"], strict=True):
        _edit_phone(p, area.houses[0], area.person_id, phone)
    # One phone after the other: see the report on concurrent pulls and SQLite.
    results = []
    for c, p in zip(contexts, phones, strict=True):
        c.set_offline(False)
        results.append(fa.sync(p))
    assert all(r["ok"] for r in results), results
    fa.go(phones[1], "#/outbox")
    expect(phones[1].locator("#conflicts .conflict")).to_have_count(1)
    with Session(live_server.engine) as s:
        person = s.get(Person, uuid.UUID(area.person_id))
        assert person is not None and person.phone == "13611110000"  # the registry keeps the first until decided
        conflict = s.scalars(select(Conflict).where(Conflict.record_id == person.id)).one()
        assert conflict.device_values.get("phone") == "13622220000"
        conflict_id = str(conflict.id)
    # The centre's queue (webapp/conflicts, built alongside this app) lists it.
    if "conflicts.index" not in live_server.app.view_functions:
        pytest.skip("no /conflicts page in this tree yet: the Conflict row above is the centre's queue")
    _centre(live_server)
    log_in(page, "centre_fa")
    response = page.goto("/conflicts")
    assert response is not None and response.status == 200
    expect(page.locator(f'a[href*="{conflict_id}"]').first).to_be_attached()


def _centre(server: LiveServer) -> None:
    from tests import factories as f
    from webapp.models import User

    with Session(server.engine) as s:
        if s.scalar(select(User).where(User.username == "centre_fa")) is None:
            f.user(s, "centre_fa", "centre")
            s.commit()


def test_two_tabs_do_not_push_the_same_outbox_twice(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    other = page.context.new_page()
    other.goto("/app/")
    fa.unlock(other)
    page.context.route("**/api/sync/**", lambda route: route.abort())
    for _ in range(2):
        fa.add_occupant(page, area.houses[0], f"双页{uuid.uuid4().hex[:4]}", fa.fresh_id())
    assert len(fa.outbox(page)) == 4
    page.context.unroute("**/api/sync/**")
    pushes_before = sum(1 for r in live_server.requests if r.path == "/api/sync/push")
    for p in (page, other):
        p.evaluate("() => { window.__sync = window.gridwalk.sync('race'); }")
    results = [p.evaluate("() => window.__sync") for p in (page, other)]
    assert any(r.get("ok") for r in results), results
    fa.sync(other)
    assert fa.outbox(page) == [] and fa.outbox(other) == []
    receipts = _receipts(live_server, area.username)
    assert len(receipts) == 4 and len({r.id for r in receipts}) == 4
    assert all(r.outcome == "applied" for r in receipts)
    pushes = sum(1 for r in live_server.requests if r.path == "/api/sync/push") - pushes_before
    assert pushes == 1, pushes


def test_new_service_worker_waits_for_the_user(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    old = page.evaluate("() => window.gridwalk.version()")
    page.context.route("**/api/sync/**", lambda route: route.abort())
    name = f"更新{uuid.uuid4().hex[:4]}"
    fa.add_occupant(page, area.houses[0], name, fa.fresh_id())
    live_server.app.config["FIELDAPP_RELEASE"] = "e2e-next"
    try:
        page.evaluate("() => window.gridwalk.checkForUpdate()")
        expect(page.locator("#update")).to_be_visible()
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.gridwalk.version()") == old  # not taken by itself
        assert len(fa.outbox(page)) == 2
        page.click("#update-go")
        fa.wait(page, "document.body.dataset.ready === 'true' && document.querySelector('#unlock-go') !== null")
        fa.unlock(page)
        new = page.evaluate("() => window.gridwalk.version()")
        assert new and new != old
        assert len(fa.outbox(page)) == 2  # queued changes survive the update
        page.context.unroute("**/api/sync/**")
        assert fa.sync(page)["ok"]
        assert fa.outbox(page) == []
        with Session(live_server.engine) as s:
            assert s.scalars(select(Person).where(Person.name == name)).one()
    finally:
        live_server.app.config["FIELDAPP_RELEASE"] = ""
