"""Login, CSRF, delays after failures, logout, language."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token, login
from webapp.models import AuditEntry


def test_login_page_carries_csrf_and_refuses_post_without_it(client, area) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.get_data(as_text=True)
    response = client.post("/login", data={"username": "centre", "password": "pw"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_login_then_logout(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    response = login(client, "centre")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    db_session.rollback()
    actions = db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["login", "logout"]


def test_wrong_password_is_refused_and_audited(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    response = login(client, "centre", "wrong")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True) or "Wrong username" in response.get_data(as_text=True)
    db_session.rollback()
    assert db_session.scalar(select(AuditEntry.action)) == "login_failed"


@pytest.mark.parametrize("door", ["console", "api"])
def test_a_password_typed_as_the_username_is_not_logged(client, area, db_session, door: str) -> None:  # type: ignore[no-untyped-def]
    # The failed login's row kept the typed name whole: often the password, typed one box early.
    typed = "Secret-Pass-2026"
    if door == "console":
        assert login(client, typed, "x").status_code == 401
    else:
        assert client.post("/api/devices", json={"username": typed, "password": "x"}).status_code == 401
    assert login(client, "coord", "wrong").status_code == 401
    db_session.rollback()
    names = [e.detail["username"] for e in db_session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert names == ["S" + "*" * (len(typed) - 1), "coord"]  # a login's own name is kept


def test_repeated_failures_delay_that_network_not_the_account(client, app, area) -> None:  # type: ignore[no-untyped-def]
    """No hard lock-out: five wrong passwords used to lock the account for everyone."""
    for _ in range(app.config["LOGIN_ACCOUNT_FREE_FAILURES"]):
        assert login(client, "coord", "wrong").status_code == 401
    # Even the right password waits, from the network that failed…
    delayed = login(client, "coord", "pw")
    assert delayed.status_code == 429 and int(delayed.headers["Retry-After"]) >= 1
    assert "用户名或密码错误" in delayed.get_data(as_text=True)
    # …while the same account from another network logs in at once.
    office = app.test_client()
    office.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert login(office, "coord", "pw").status_code == 302


def test_open_redirect_is_refused(client, area) -> None:  # type: ignore[no-untyped-def]
    token = csrf_token(client)
    response = client.post("/login?next=//evil.example/x",
                           data={"username": "centre", "password": "pw", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_session_cookie_flags(client, area) -> None:  # type: ignore[no-untyped-def]
    response = login(client, "centre")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_language_switch(client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    assert "我的区域" in client.get("/").get_data(as_text=True)
    token = csrf_token(client, "/")
    client.post("/lang/en", data={"csrf_token": token, "next": "/"})
    assert "My area" in client.get("/").get_data(as_text=True)


def test_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_community_reporter_lands_on_the_community_page(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    """A reporter sees no cells: the console home would be empty, so login sends them on."""
    from tests import factories as f

    f.user(db_session, "rep", "reporter", committee_id=area.committees["A"].id)
    db_session.commit()
    r = login(client, "rep")
    assert r.status_code == 302
    landed = client.get(r.headers["Location"], follow_redirects=True)
    assert landed.request.path == "/community" and landed.status_code == 200
    # Every other role keeps the console home.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/community")})
    login(client, "coord")
    assert client.get("/").status_code == 200
