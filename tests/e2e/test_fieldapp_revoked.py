"""A phone the centre revoked: the next sync erases the registry's copy and shows the revoked
screen at once; nothing unsynced is dropped — wiping is refused until the outbox is exported to a file (a locked phone asks for
the PIN first, as the file is made of the ID numbers opened), the centre imports that file, and
only then does the wipe go through. The file is sealed to the server's key (docs/sync.md §6.1),
held since the login: none of the residents' names, ID numbers or phones is in it in clear."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync import devices, rescue, sealed
from tests import factories as f
from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from webapp.models import Device, Person, SyncMutation
from geo.assign import CellFinder

REVOKED_ZH = "本机已被停用，登记数据已从本机清除：请导出待同步数据交给中心，然后清除"
# The stores of the registry's copy (static/pwa/db.js TABLES) and the offline-search journal.
REGISTRY = ("committee", "cell", "house", "house_code", "room", "house_flag", "house_event", "unit", "person",
            "residency", "visit", "task", "review", "digits")


def _revoke(server: LiveServer, user_id: int) -> str:
    with Session(server.engine) as s:
        centre = f.user(s, f"centre_{uuid.uuid4().hex[:6]}", "centre")
        device = s.scalars(select(Device).where(Device.user_id == user_id, Device.revoked_at.is_(None))).one()
        devices.revoke(s, device, centre.id)
        s.commit()
        return str(device.id)


def test_revoked_phone_hands_over_before_it_wipes(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    house = area.houses[0]
    fa.block_sync(page)
    names = [f"停用{uuid.uuid4().hex[:4]}" for _ in range(2)]
    numbers = [fa.fresh_id() for _ in names]
    phones = [f"139{uuid.uuid4().int % 10**8:08d}" for _ in names]
    for name, number, phone in zip(names, numbers, phones, strict=True):
        fa.add_occupant(page, house, name, number, phone=phone)
    assert len(fa.outbox(page)) == 4
    held = fa.idb_contents(page)
    assert held["gridwalk/house"] > 0 and held["gridwalk/person"] > 0 and held["gridwalk/digits"] > 0, held
    device_id = _revoke(live_server, area.user_id)

    fa.unblock_sync(page)
    fa.sync(page)
    result = fa.last_sync(page)
    assert not result["ok"] and result["error"] == "device_revoked", result
    expect(page.locator("h1")).to_have_text(REVOKED_ZH)  # shown by the sync itself, no navigation
    expect(page.locator("#revoked-pending")).to_contain_text("4")
    # The registry's copy went as the phone learnt of the revocation, before any tap; what was
    # typed stays for the file.
    left = fa.idb_contents(page)
    assert {name: left[f"gridwalk/{name}"] for name in REGISTRY} == dict.fromkeys(REGISTRY, 0), left
    assert left["gridwalk/outbox"] == 4, left
    held_key = fa.meta(page, "rescue_key")  # and the key the file is sealed to, from the login
    assert isinstance(held_key, dict) and held_key["kid"] == sealed.server_key(live_server.app.config["SECRET_KEY"]).kid
    # Wiping now would drop four changes: refused, and they stay.
    page.click("#wipe")
    expect(page.locator("#toast")).to_have_text("还有未同步的数据：请先同步或导出文件交给中心")
    assert len(fa.outbox(page)) == 4
    with Session(live_server.engine) as s:
        assert s.scalars(select(SyncMutation).where(SyncMutation.device_id == uuid.UUID(device_id))).all() == []

    # Reopened later (locked): still the revoked screen, and the export needs the PIN.
    page.reload()
    fa.wait_ready(page)
    expect(page.locator("h1")).to_have_text(REVOKED_ZH)
    page.fill("[name=pin]", "0000")
    page.click("#export")
    expect(page.locator('[data-error-for="pin"]')).to_have_text("PIN码错误，还可尝试4次")
    page.fill("[name=pin]", fa.PIN)
    with page.expect_download() as download:
        page.click("#export")
    expect(page.locator("#toast")).to_have_text("已导出加密文件（只有中心能打开），请交给中心")
    assert download.value.suggested_filename.endswith(".sealed.json"), download.value.suggested_filename
    text = Path(download.value.path()).read_text(encoding="utf-8")
    secrets = [*names, *numbers, *phones, *(n[-6:] for n in numbers)]
    assert fa.in_clear(text, secrets) == []
    # Sealed to the key of the server's SECRET_KEY, which the phone got at its login; only
    # that opens it.
    document = json.loads(text)
    key = sealed.server_key(live_server.app.config["SECRET_KEY"])
    assert document["format"] == "gridwalk-rescue-sealed" and document["kid"] == key.kid, document
    handed = json.loads(sealed.open_sealed(document, key))
    assert handed["device_id"] == device_id
    assert sorted(m["fields"].get("phone") for m in handed["mutations"] if m["type"] == "person") == sorted(phones)
    assert sorted(m["fields"].get("id_number") for m in handed["mutations"] if m["type"] == "person") == sorted(numbers)
    assert len(handed["mutations"]) == 4

    # The centre imports the file as it came (the rescue import, as the devices console does,
    # opening it with the server's key): all of it arrives.
    with Session(live_server.engine) as s:
        result_ = rescue.import_file(s, rescue.read_file(text.encode("utf-8"), [key]), CellFinder(s))
        s.commit()
        assert result_.counts() == {"applied": 4}
        assert sorted(p.id_number for p in s.scalars(select(Person).where(Person.name.in_(names)))) == sorted(numbers)

    # Now the wipe goes through: nothing of the coordinator's is left on the phone.
    page.click("#wipe")
    fa.wait(page, "location.hash === '#/login'")
    expect(page.locator("#login-go")).to_be_visible()
    left = fa.idb_contents(page)
    assert left and not any(left.values()), left
