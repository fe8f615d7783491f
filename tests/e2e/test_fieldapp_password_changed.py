"""The login password changed since the phone last logged in (the centre reset it, or the user
changed it on /account): the password-wrapped copy of the data key no longer opens, but the
PIN still does — logging in again with the new password and the same PIN keeps every queued
change readable (before, a new key was made and the sealed outbox could never be sent)."""
from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Person, User

NEW_PASSWORD = "chun-feng-4-ye"


def test_new_password_same_pin_keeps_the_queued_work(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    fa.block_sync(page)
    name, number = f"改密{uuid.uuid4().hex[:4]}", fa.fresh_id()
    fa.add_occupant(page, area.houses[0], name, number)
    with Session(live_server.engine) as s:
        s.execute(update(User).where(User.username == area.username).values(
            password_hash=generate_password_hash(NEW_PASSWORD, method="pbkdf2:sha256:1")))
        s.commit()
    page.evaluate("() => window.gridwalk.lock()")
    fa.go(page, "#/recover")
    page.fill("[name=username]", area.username)
    page.fill("[name=password]", NEW_PASSWORD)
    page.fill("[name=pin]", fa.PIN)
    page.fill("[name=pin2]", fa.PIN)
    page.click("#login-go")
    fa.wait(page, "location.hash === '#/cells'")
    assert len(fa.outbox(page)) == 2
    person_id = page.evaluate("""async (name) => {
      const d = await (await import('/static/pwa/db.js')).db();
      return (await d.getAll('person')).find((p) => p.name === name).id;
    }""", name)
    fa.go(page, f"#/house/{area.houses[0]}/person/{person_id}/edit")
    expect(page.locator("[name=id_number]")).to_have_value(number)  # still opens: the same key
    fa.unblock_sync(page)
    fa.sync(page)
    assert fa.last_sync(page)["ok"] and fa.outbox(page) == []
    with Session(live_server.engine) as s:
        assert s.scalar(select(func.count()).select_from(Person).where(Person.id_number == number)) == 1
