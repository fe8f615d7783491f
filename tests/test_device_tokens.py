"""Device tokens (issue 15, point 10): they expire after DEVICE_IDLE_DAYS without a sync, a
login holds at most DEVICES_PER_USER live ones (a new login on the same phone `replaces` its
old token), and deactivating the user revokes them all."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from config import Config
from sync import devices
from webapp.models import AuditEntry, Device, User, Visit
from webapp.oversight.accounts import deactivate
from webapp.base.timeutil import utcnow


@pytest.fixture
def app(app):  # type: ignore[no-untyped-def]
    """The production defaults (the test config allows many phones per login)."""
    app.config.update(DEVICES_PER_USER=Config.DEVICES_PER_USER, DEVICE_IDLE_DAYS=Config.DEVICE_IDLE_DAYS)
    return app


def test_the_defaults() -> None:
    assert (Config.DEVICE_IDLE_DAYS, Config.DEVICES_PER_USER) == (30, 2)


def _register(client, username: str = "coord", **extra):  # type: ignore[no-untyped-def]
    return client.post("/api/devices", json={"username": username, "password": "pw", "label": "t", **extra})


def _token(client, username: str = "coord", **extra) -> str:  # type: ignore[no-untyped-def]
    response = _register(client, username, **extra)
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _age(db_session, token: str, days: float) -> Device:  # type: ignore[no-untyped-def]
    """Make the phone's last sync (and registration) `days` ago."""
    db_session.rollback()
    device = devices.by_token(db_session, token)
    assert device is not None
    then = utcnow() - timedelta(days=days)
    device.created_at = device.last_seen_at = then
    device.last_push_at = device.last_pull_at = None
    db_session.commit()
    return device


def _visit(house_id: uuid.UUID, seq: int = 1) -> dict:  # type: ignore[type-arg]
    return {"id": str(uuid.uuid4()), "seq": seq, "type": "visit", "op": "create", "record_id": str(uuid.uuid4()),
            "fields": {"house_id": str(house_id), "visited_at": "2026-11-26T08:00:00Z", "outcome": "verified",
                       "plate_scanned": True}}


def _push(client, token: str, *mutations: dict):  # type: ignore[no-untyped-def,type-arg]
    return client.post("/api/sync/push", json={"protocol": 1, "mutations": list(mutations)}, headers=_bearer(token))


# (days since the last sync, whether the token still works)
AGES = [(0, True), (29, True), (29.9, True), (30.1, False), (365, False)]


@pytest.mark.parametrize(("days", "works"), AGES, ids=[f"{d}d" for d, _ in AGES])
@pytest.mark.parametrize("call", ["push", "pull"])
def test_a_token_expires_after_idle_days_without_a_sync(client, area, db_session, days, works, call) -> None:  # type: ignore[no-untyped-def]
    token = _token(client)
    _age(db_session, token, days)
    if call == "push":
        response = _push(client, token)
    else:
        response = client.get("/api/sync/pull?protocol=1", headers=_bearer(token))
    if works:
        assert response.status_code == 200, response.get_data(as_text=True)
        return
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "device_expired" and not body["wipe_after_handover"]
    assert "log in again" in body["detail"] and "重新登录" in body["detail"] and "30" in body["detail"]


def test_a_sync_keeps_the_token_alive(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    token = _token(client)
    _age(db_session, token, 29)
    assert _push(client, token).status_code == 200  # the push is a sync: the 30 days start again
    db_session.rollback()
    device = devices.by_token(db_session, token)
    assert device is not None and devices.last_sync(device) > utcnow() - timedelta(minutes=1)


def test_an_expired_phones_outbox_is_pushed_after_logging_in_again(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """The outbox stays on the phone; the new login's token sends it (keyed by mutation id,
    so what the old token already sent is not applied twice)."""
    old = _token(client)
    sent, waiting = _visit(area.houses["A1"].id, 1), _visit(area.houses["A1"].id, 2)
    assert _push(client, old, sent).get_json()["outcomes"][0]["status"] == "applied"
    _age(db_session, old, 31)
    refused = _push(client, old, waiting)
    assert refused.status_code == 401 and refused.get_json()["code"] == "device_expired"
    new = _token(client, replaces=old)
    outcomes = {o["id"]: o["status"] for o in _push(client, new, sent, waiting).get_json()["outcomes"]}
    assert outcomes == {sent["id"]: "already_applied", waiting["id"]: "applied"}
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Visit)) == 2
    # The old token was ended by the new login (`replaces`).
    assert _push(client, old).status_code == 403


def _live(db_session, username: str = "coord") -> int:  # type: ignore[no-untyped-def]
    db_session.rollback()
    user = db_session.scalar(select(User).where(User.username == username))
    return len(devices.live_devices(db_session, user, Config.DEVICE_IDLE_DAYS))


def test_a_login_holds_at_most_devices_per_user_live_tokens(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    first, second = _token(client), _token(client)
    over = _register(client)
    assert over.status_code == 409, over.get_data(as_text=True)
    body = over.get_json()
    assert body["code"] == "too_many_devices" and "token" not in body
    assert "log out" in body["detail"] and "退出登录" in body["detail"] and "设备列表" in body["detail"]
    assert _live(db_session) == 2
    # A revoked token and an expired one no longer count.
    assert client.post("/api/devices/self/revoke", headers=_bearer(first)).status_code == 200
    third = _token(client)
    _age(db_session, second, 31)
    _token(client)
    assert _register(client).status_code == 409
    # Another login is not affected by coord's phones.
    _token(client, "lead")
    assert _push(client, third).status_code == 200
    db_session.rollback()
    refusals = db_session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "device_refused")).all()
    assert [r["code"] for r in refusals] == ["too_many_devices", "too_many_devices"]


def test_logging_in_again_on_the_same_phone_replaces_its_token_within_the_cap(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    phone, other_phone = _token(client), _token(client)
    again = _token(client, replaces=phone)  # at the cap, yet accepted: the old token goes
    assert _live(db_session) == 2
    assert _push(client, phone).status_code == 403  # revoked: device_revoked
    assert _push(client, again).status_code == 200 and _push(client, other_phone).status_code == 200
    db_session.rollback()
    old = devices.by_token(db_session, phone)
    assert old is not None and old.revoked_by_id == area.users["coordinator"].id
    assert db_session.scalar(select(AuditEntry).where(AuditEntry.action == "device_replaced",
                                                      AuditEntry.object_id == str(old.id))) is not None


# `replaces` naming a token that is not the user's own live one changes nothing.
FOREIGN = ["another user's", "unknown", "already revoked"]


@pytest.mark.parametrize("kind", FOREIGN)
def test_replaces_ends_only_the_users_own_token(client, area, db_session, kind: str) -> None:  # type: ignore[no-untyped-def]
    _token(client), _token(client)
    if kind == "another user's":
        foreign = _token(client, "lead")
    elif kind == "unknown":
        foreign = "A" * 43
    else:
        foreign = _token(client, "lead")
        client.post("/api/devices/self/revoke", headers=_bearer(foreign))
    refused = _register(client, replaces=foreign)
    assert refused.status_code == 409 and refused.get_json()["code"] == "too_many_devices"
    if kind == "another user's":
        assert _push(client, foreign).status_code == 200  # the lead's phone still syncs


def test_a_refused_registration_keeps_the_replaced_token(client, area, db_session, app) -> None:  # type: ignore[no-untyped-def]
    """Nothing changes when the registration is refused after the token named in `replaces`
    was looked at (here: a label that is not text)."""
    phone = _token(client)
    bad = _register(client, replaces=phone, label=["x"])
    assert bad.status_code == 422
    assert _push(client, phone).status_code == 200


def test_deactivation_revokes_every_token_and_ends_sessions(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    tokens = [_token(client), _token(client)]
    db_session.rollback()
    user = db_session.scalar(select(User).where(User.username == "coord"))
    generation = user.session_generation
    revoked = deactivate(db_session, user, area.users["centre"].id)
    db_session.commit()
    assert revoked == 2
    db_session.refresh(user)
    assert user.active is False and user.session_generation == generation + 1
    for token in tokens:
        refused = _push(client, token)
        assert refused.status_code == 403 and refused.get_json()["code"] == "device_revoked"
    # The login itself is refused with the words of any wrong password.
    assert _register(client).get_json()["code"] == "login_failed"


def test_deactivate_user_from_the_command_line(runner, client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    token = _token(client)
    result = runner.invoke(args=["deactivate-user", "coord"])
    assert result.exit_code == 0 and "1" in result.output, result.output
    assert _push(client, token).status_code == 403
    assert runner.invoke(args=["deactivate-user", "nobody"]).exit_code != 0
    db_session.rollback()
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "deactivate_user"))
    assert entry is not None and entry.detail["devices_revoked"] == 1


def test_a_user_ends_their_own_phones_on_the_account_page(app, client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import csrf_token, login

    token = _token(client)
    lead_token = _token(client, "lead")
    db_session.rollback()
    mine = devices.by_token(db_session, token)
    theirs = devices.by_token(db_session, lead_token)
    login(client, "coord")
    page = client.get("/account").get_data(as_text=True)
    assert str(mine.id) in page and str(theirs.id) not in page
    form = {"csrf_token": csrf_token(client, "/account")}
    assert client.post(f"/account/devices/{theirs.id}/end", data=form).status_code == 404
    assert client.post(f"/account/devices/{mine.id}/end", data={}).status_code == 400  # no CSRF token
    assert client.post(f"/account/devices/{mine.id}/end", data=form).status_code == 302
    assert _push(client, token).status_code == 403 and _push(client, lead_token).status_code == 200


def test_the_openapi_document_describes_the_registration() -> None:
    from webapp.api.openapi import document

    doc = document()
    operation = doc["paths"]["/api/devices"]["post"]
    assert "replaces" in operation["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"401", "403", "409", "429"} <= set(operation["responses"])
    text = operation["description"] + doc["info"]["description"]
    for code in ("role_no_device", "too_many_devices", "password_change_required", "device_expired"):
        assert code in text
