"""The device list: who holds which phone, stranded work, revoking."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync import devices
from tests import factories as f
from tests.conftest import csrf_token, login
from tests.phones import Phone
from webapp.models import AuditEntry, Device
from webapp.base.timeutil import utcnow


@pytest.fixture
def phones(area, db_session: Session) -> dict[str, Phone]:  # type: ignore[no-untyped-def]
    """The coordinator's phone (committee A) and one of a coordinator in B1."""
    other = f.user(db_session, "coordb", "coordinator", display_name="乙协管员")
    area.cells["B1"].coordinators.append(other)
    db_session.commit()
    return {"A1": Phone(db_session, area.users["coordinator"], "Redmi A"),
            "B1": Phone(db_session, other, "Honor B")}


def test_centre_sees_every_device_with_its_state(client, area, db_session, phones) -> None:  # type: ignore[no-untyped-def]
    phones["A1"].device.last_push_at = datetime(2026, 11, 20, 0, 30, tzinfo=timezone.utc)
    phones["A1"].device.pending = 4
    db_session.commit()
    login(client, "centre")
    page = client.get("/devices").get_data(as_text=True)
    assert "Redmi A" in page and "Honor B" in page and "0.3.0" in page
    assert "2026-11-20 08:30" in page  # local time (Asia/Shanghai)


def test_committee_sees_the_devices_of_its_area(client, area, phones) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    page = client.get("/devices").get_data(as_text=True)
    assert "Redmi A" in page and "Honor B" not in page


@pytest.mark.parametrize("username", ["coord", "lead", "police"])
def test_other_roles_may_not_list_devices(client, area, username: str) -> None:  # type: ignore[no-untyped-def]
    login(client, username)
    assert client.get("/devices").status_code == 403


def test_stale_devices(client, area, db_session, phones) -> None:  # type: ignore[no-untyped-def]
    old = utcnow() - timedelta(days=5)
    stranded, quiet = phones["A1"].device, phones["B1"].device
    stranded.pending, stranded.last_push_at = 7, old
    quiet.pending, quiet.last_push_at = 0, old  # silent, but nothing to lose
    fresh = Phone(db_session, area.users["grid_lead"], "Fresh C").device
    fresh.pending, fresh.last_push_at = 3, utcnow()
    db_session.commit()
    login(client, "centre")
    page = client.get("/devices?stale=1").get_data(as_text=True)
    assert "Redmi A" in page and "Honor B" not in page and "Fresh C" not in page
    assert page.count('class="stale"') == 1
    assert "Fresh C" in client.get("/devices").get_data(as_text=True)


def test_stale_days_is_a_setting(client, app, area, db_session, phones) -> None:  # type: ignore[no-untyped-def]
    device = phones["A1"].device
    device.pending, device.last_push_at = 2, utcnow() - timedelta(days=2)
    db_session.commit()
    login(client, "centre")
    assert app.config["STALE_DEVICE_DAYS"] == 3
    assert "Redmi A" not in client.get("/devices?stale=1").get_data(as_text=True)
    app.config["STALE_DEVICE_DAYS"] = 1
    assert "Redmi A" in client.get("/devices?stale=1").get_data(as_text=True)


def test_revoke(client, area, db_session, phones) -> None:  # type: ignore[no-untyped-def]
    device = phones["A1"].device
    login(client, "comm")
    assert client.post(f"/devices/{device.id}/revoke").status_code == 400  # no CSRF token
    token = csrf_token(client, "/devices")
    assert client.post(f"/devices/{phones['B1'].device.id}/revoke", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/devices/{device.id}/revoke", data={"csrf_token": token}).status_code == 302
    db_session.rollback()
    revoked = db_session.get(Device, device.id)
    assert revoked is not None and revoked.revoked_at is not None and revoked.revoked_by_id == area.users["committee"].id
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "revoke_device"))
    assert entry is not None and entry.object_id == str(device.id)
    assert db_session.get(Device, phones["B1"].device.id).revoked_at is None  # type: ignore[union-attr]
    with pytest.raises(devices.DeviceRefused) as refused:
        devices.authenticate(db_session, phones["A1"].token)
    assert refused.value.code == "device_revoked"
