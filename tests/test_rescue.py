"""Rescue import: a phone's exported outbox goes through the push code, as that phone."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync import devices, rescue
from tests.conftest import csrf_token, login
from tests.phones import Phone
from webapp.models import AuditEntry, Device, SyncMutation, Visit
from geo.assign import CellFinder


@pytest.fixture
def phone(area, db_session: Session) -> Phone:  # type: ignore[no-untyped-def]
    return Phone(db_session, area.users["coordinator"], "Redmi A")


def outbox(area, phone: Phone, n: int = 2) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    visits = [phone.mutation("visit", "create", fields={"house_id": str(area.houses["A1"].id),
                                                        "visited_at": "2026-11-26T08:00:00Z", "outcome": "verified"})
              for _ in range(n)]
    return {"device_id": str(phone.device.id), "protocol": 1, "mutations": visits}


def _visits(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Visit)) or 0


def test_importing_the_same_file_twice_applies_nothing_twice(area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    data = json.dumps(outbox(area, phone)).encode()
    first = rescue.import_file(db_session, rescue.read_file(data), CellFinder(db_session))
    db_session.commit()
    assert [o.status for o in first.outcomes] == ["applied", "applied"]
    again = rescue.import_file(db_session, rescue.read_file(data), CellFinder(db_session))
    db_session.commit()
    assert [o.status for o in again.outcomes] == ["already_applied", "already_applied"]
    assert _visits(db_session) == 2
    assert db_session.scalar(select(func.count()).select_from(SyncMutation)) == 2


def test_a_large_file_goes_in_push_sized_batches(area, db_session, phone, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(rescue, "MAX_MUTATIONS", 2)
    parsed = rescue.read_file(json.dumps(outbox(area, phone, 5)).encode())
    assert [len(b.mutations) for b in parsed.batches] == [2, 2, 1]
    result = rescue.import_file(db_session, parsed, CellFinder(db_session))
    db_session.commit()
    assert result.counts() == {"applied": 5} and phone.device.last_seq == 5


@pytest.mark.parametrize(("data", "code"), [
    (b"\xff not json", "rescue.not_json"),
    (b'{"mutations": {}}', "rescue.shape"),
    (b'{"device_id": "x", "protocol": 1, "mutations": []}', "rescue.device"),
    (b'{"device_id": "6f1c1f4e-9f5e-4a40-8f4b-1f7f5f0b2d11", "protocol": 0, "mutations": []}', "protocol_outdated"),
    # Read as a push's body is (these were a RecursionError, a 500, and a value stored as is).
    (b"[" * 100_000 + b"]" * 100_000, "json_too_deep"),
    (b'{"device_id": "6f1c1f4e-9f5e-4a40-8f4b-1f7f5f0b2d11", "protocol": 1, "mutations": ['
     + b"[" * 50 + b"]" * 50 + b"]}", "json_too_deep"),
    (b'{"device_id": "6f1c1f4e-9f5e-4a40-8f4b-1f7f5f0b2d11", "protocol": 1, "mutations": [{"seq": NaN}]}',
     "rescue.not_json"),
    (b'{"device_id": "6f1c1f4e-9f5e-4a40-8f4b-1f7f5f0b2d11", "protocol": 1, "mutations": [{"seq": 1e999}]}',
     "number_out_of_range"),
])
def test_bad_files(data: bytes, code: str) -> None:
    with pytest.raises(rescue.RescueInvalid) as bad:
        rescue.read_file(data)
    assert bad.value.code == code


def _upload(client, body: bytes, name: str = "outbox.json"):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/devices/rescue")
    return client.post("/devices/rescue", data={"csrf_token": token, "file": (io.BytesIO(body), name)},
                       content_type="multipart/form-data")


def test_a_revoked_devices_file_imports_in_the_console(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]
    pushed = datetime(2026, 10, 1, tzinfo=timezone.utc)
    phone.device.pending, phone.device.last_push_at, phone.device.last_seen_at = 2, pushed, pushed
    devices.revoke(db_session, phone.device, area.users["centre"].id)
    db_session.commit()
    body = json.dumps(outbox(area, phone)).encode()
    login(client, "centre")
    response = _upload(client, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert page.count(">applied<") == 2
    db_session.rollback()
    assert _visits(db_session) == 2
    device = db_session.get(Device, phone.device.id)
    assert device is not None and device.pending == 0 and device.last_seq == 2
    assert device.last_push_at == pushed  # a rescue is not the phone syncing
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "rescue_import"))
    assert entry is not None and entry.detail["outcomes"] == {"applied": 2} and entry.detail["revoked"] is True
    assert _upload(client, body).get_data(as_text=True).count(">already_applied<") == 2
    db_session.rollback()
    assert _visits(db_session) == 2


def test_a_bad_file_is_shown_at_the_field(client, area, phone) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    response = _upload(client, b"[1, 2]")
    assert response.status_code == 422 and "手机导出" in response.get_data(as_text=True)
    deep = _upload(client, b"[" * 100_000 + b"]" * 100_000)  # was a 500
    assert deep.status_code == 422 and "嵌套过深" in deep.get_data(as_text=True)
    unknown = json.dumps({"device_id": "6f1c1f4e-9f5e-4a40-8f4b-1f7f5f0b2d11", "protocol": 1, "mutations": []})
    assert _upload(client, unknown.encode()).status_code == 422


@pytest.mark.parametrize("username", ["comm", "lead", "coord", "police"])
def test_only_the_centre_imports(client, area, phone, username: str) -> None:  # type: ignore[no-untyped-def]
    login(client, username)
    assert client.get("/devices/rescue").status_code == 403
    token = csrf_token(client, "/")
    response = client.post("/devices/rescue", data={"csrf_token": token, "file": (io.BytesIO(b"{}"), "x.json")},
                           content_type="multipart/form-data")
    assert response.status_code == 403
