"""Security: login throttling across workers, headers and cookies, hashed secrets, the audit
trail of personal-data access, and its retention."""
from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.conftest import _config_for, csrf_token, login


def _worker(database_url: str, **settings: object):  # type: ignore[no-untyped-def]
    """A second app instance on the same database: what another gunicorn worker is."""
    from webapp.app import create_app

    return create_app(_config_for(database_url, **settings))


def _fail(client, username: str = "nobody"):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": username, "password": "wrong",
                                       "csrf_token": csrf_token(client)})


def test_login_failures_are_throttled_per_address_across_workers(app, database_url, area) -> None:  # type: ignore[no-untyped-def]
    app.config["LOGIN_FAILURES_PER_IP"] = 3
    other = _worker(database_url, LOGIN_FAILURES_PER_IP=3)
    one, two = app.test_client(), other.test_client()
    # Different usernames each time: the per-account lock-out never triggers, only the address.
    assert _fail(one, "a").status_code == 401
    assert _fail(two, "b").status_code == 401
    assert _fail(one, "c").status_code == 401
    # The fourth attempt, even with the right password, is refused on either worker.
    refused = two.post("/login", data={"username": "centre", "password": "pw", "csrf_token": csrf_token(two)})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    api = one.post("/api/devices", json={"username": "coord", "password": "pw"})
    assert api.status_code == 429 and api.mimetype == "application/problem+json"
    assert api.get_json()["code"] == "too_many_attempts" and int(api.headers["Retry-After"]) > 0
    # Another address is not affected.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert login(elsewhere, "centre").status_code == 302  # type: ignore[attr-defined]
    with other.app_context():
        from webapp.extensions import db

        db.engine.dispose()


def test_api_login_failures_count_too(app, area) -> None:  # type: ignore[no-untyped-def]
    app.config["LOGIN_FAILURES_PER_IP"] = 2
    c = app.test_client()
    for name in ("x", "y"):
        assert c.post("/api/devices", json={"username": name, "password": "bad"}).status_code == 401
    assert c.post("/api/devices", json={"username": "coord", "password": "pw"}).status_code == 429
    assert _fail(c).status_code == 429


def test_successful_logins_are_not_throttled(app, area) -> None:  # type: ignore[no-untyped-def]
    """A centre registering many phones from one office address is never refused."""
    app.config["LOGIN_FAILURES_PER_IP"] = 2
    c = app.test_client()
    for _ in range(5):
        assert c.post("/api/devices", json={"username": "coord", "password": "pw"}).status_code == 201


PAGES = ["/login", "/", "/api/openapi.json", "/h/A1CODE0001", "/app/", "/nope"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_everywhere(client, area, path: str) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    r = client.get(path)
    csp = r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")


def test_https_answers_tell_browsers_to_keep_to_https(client, area) -> None:  # type: ignore[no-untyped-def]
    """HSTS on every answer over HTTPS (a proxy's X-Forwarded-Proto, with PROXY_COUNT set, counts
    as HTTPS); none over plain HTTP, where a browser would ignore it anyway."""
    for path in ("/login", "/app/", "/api/openapi.json", "/h/A1CODE0001", "/nope"):
        assert "Strict-Transport-Security" not in client.get(path).headers
        secure = client.get(path, base_url="https://gridwalk.example").headers
        assert secure["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_can_be_turned_off(app, area) -> None:  # type: ignore[no-untyped-def]
    app.config["HSTS_MAX_AGE_S"] = 0
    assert "Strict-Transport-Security" not in app.test_client().get("/login", base_url="https://x.example").headers


def test_hsts_behind_a_trusted_proxy(database_url, area) -> None:  # type: ignore[no-untyped-def]
    app = _worker(database_url, PROXY_COUNT=1)
    c = app.test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9", "X-Forwarded-Host": "gw.example"}
    assert c.get("/login", headers=headers).headers["Strict-Transport-Security"] == "max-age=31536000"
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_flags(database_url, area, secure: bool) -> None:  # type: ignore[no-untyped-def]
    app = _worker(database_url, SESSION_COOKIE_SECURE=secure, REMEMBER_COOKIE_SECURE=secure)
    c = app.test_client()
    cookie = login(c, "centre").headers.get("Set-Cookie", "")  # type: ignore[attr-defined]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is secure
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()


def test_device_tokens_and_passwords_are_stored_hashed(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import Device

    r = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "t"})
    token = r.get_json()["token"]
    db_session.rollback()
    device = db_session.scalar(select(Device))
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = db_session.execute(text(f"SELECT * FROM {Device.__tablename__}")).mappings().one()
    assert not any(token in str(v) for v in row.values())
    # Passwords: a modern KDF (the test factories use a fast hash; the app's own is scrypt).
    from werkzeug.security import generate_password_hash

    from config import Config

    assert generate_password_hash("pw", method=Config.PASSWORD_HASH_METHOD).startswith("scrypt:")
    # Revocable: a revoked token is refused on every sync call.
    device.revoked_at = device.created_at
    db_session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/sync/pull?protocol=1", headers=auth).status_code == 403
    assert client.post("/api/sync/push", json={"protocol": 1, "mutations": []}, headers=auth).status_code == 403


def _register(client, username: str = "coord") -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/devices", json={"username": username, "password": "pw", "label": "t"})
    assert r.status_code == 201
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def test_a_phone_revokes_its_own_token_at_logout(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import AuditEntry, Device

    phone, other = _register(client), _register(client)
    r = client.post("/api/devices/self/revoke", headers=phone)
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["already_revoked"] is False and body["revoked_at"] and body["pending"] == 0
    db_session.rollback()
    device = db_session.get(Device, uuid.UUID(body["device_id"]))
    assert device.revoked_at is not None and device.revoked_by_id == area.users["coordinator"].id
    # The token is dead on every call; the same user's other phone is untouched.
    refused = client.get("/api/sync/pull?protocol=1", headers=phone)
    assert refused.status_code == 403 and refused.get_json()["code"] == "device_revoked"
    assert client.post("/api/sync/push", json={"protocol": 1, "mutations": []}, headers=phone).status_code == 403
    assert client.get("/api/walk", headers=phone).status_code == 403
    assert client.get("/api/sync/pull?protocol=1", headers=other).status_code == 200
    # Idempotent: a phone that lost the answer asks again and is told it is done, once audited.
    again = client.post("/api/devices/self/revoke", headers=phone)
    assert again.status_code == 200 and again.get_json()["already_revoked"] is True
    assert again.get_json()["revoked_at"] == body["revoked_at"]
    db_session.rollback()
    rows = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "device_self_revoked")).all()
    assert [(a.object_id, a.user_id) for a in rows] == [(str(device.id), area.users["coordinator"].id)]


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer forged-token", "Basic Y29vcmQ6cHc=", "bearer x"])
def test_self_revoke_refuses_unknown_tokens(client, area, header: str | None) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/devices/self/revoke", headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert r.get_json()["code"] == "device_unknown"
    # A console login is not a device: the cookie alone revokes nothing.
    login(client, "coord")
    assert client.post("/api/devices/self/revoke").status_code == 401


def test_a_disabled_users_phone_may_still_end_its_token(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from webapp.models import User

    phone = _register(client)
    db_session.get(User, area.users["coordinator"].id).active = False
    db_session.commit()
    assert client.get("/api/sync/pull?protocol=1", headers=phone).get_json()["code"] == "user_inactive"
    r = client.post("/api/devices/self/revoke", headers=phone)
    assert r.status_code == 200 and r.get_json()["already_revoked"] is False


def test_personal_data_access_is_audited(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """Every view of a full person record and every export: who, what, when, from where."""
    from webapp.models import AuditEntry

    token = client.post("/api/devices", json={"username": "coord", "password": "pw"}).get_json()["token"]
    assert client.get("/api/sync/pull?protocol=1", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    login(client, "centre")
    assert client.get(f"/persons/{area.persons['A1'].id}").status_code == 200
    for shape in ("houses", "persons", "residencies"):
        assert client.get(f"/extract/export/{shape}.csv").status_code == 200
    assert client.get("/coverage/export.csv").status_code == 200
    db_session.rollback()
    rows = db_session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    actions = [r.action for r in rows]
    for action in ("device_registered", "sync_pull", "login", "view_person", "export_extract", "export_coverage"):
        assert action in actions, actions
    users = {u.id: u.username for u in area.users.values()}
    for r in rows:
        if r.action in ("sync_pull", "view_person", "export_extract", "export_coverage"):
            assert users[r.user_id] == ("coord" if r.action == "sync_pull" else "centre")  # who
            assert r.at is not None and r.ip == "127.0.0.1"  # when, from where
    view = next(r for r in rows if r.action == "view_person")
    assert view.object_type == "person" and view.object_id == str(area.persons["A1"].id)  # what
    assert {r.detail["shape"] for r in rows if r.action == "export_extract"} == {"houses", "persons", "residencies"}
    assert next(r for r in rows if r.action == "sync_pull").detail["persons"] == 1


def test_audit_rows_outlive_tombstone_purges(runner, db_session, area) -> None:  # type: ignore[no-untyped-def]
    """PIPL art. 56: processing records kept ≥ 3 years. The purge erases personal columns of
    old tombstones and never touches audit_log; the log refuses deletes by trigger."""
    from webapp.models import AuditEntry
    from webapp.base.timeutil import utcnow

    old = AuditEntry(action="view_person", object_type="person", object_id="x", ip="10.0.0.1",
                     at=utcnow() - timedelta(days=4 * 366), detail={"full_id": True})
    db_session.add(old)
    db_session.commit()
    before = db_session.execute(select(AuditEntry.id, AuditEntry.at, AuditEntry.detail).order_by(AuditEntry.id)).all()
    result = runner.invoke(args=["purge-tombstones", "--days", "0"])
    assert result.exit_code == 0, result.output
    db_session.rollback()
    after = db_session.execute(select(AuditEntry.id, AuditEntry.at, AuditEntry.detail).order_by(AuditEntry.id)).all()
    assert after[:len(before)] == before
    assert db_session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.id == old.id)) == 1
