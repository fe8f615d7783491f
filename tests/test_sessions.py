"""Console sessions end when they should, although they are signed cookies (issue 15, point 9).

A cookie copied before logout, a password change or reset, or the user's deactivation is
refused afterwards, on any client; a session idle for SESSION_IDLE_S or older than
SESSION_LIFETIME_S is over. /account and /admin as a small matrix of every role.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import csrf_token, login, logout
from webapp.auth.sessions import LAST_SEEN, LOGGED_IN_AT

NEW_PASSWORD = "Gelb-Ahorn-Fluss-7"


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app: Any, cookie: str) -> FlaskClient:
    """Another browser holding a copy of the cookie (what a thief or a shared PC keeps)."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def _logged_in(client: FlaskClient) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


# Each ends every session of "coord": (name, what happens, whether the acting client itself
# stays logged in).
def _logout(app, client, runner) -> None:  # type: ignore[no-untyped-def]
    logout(client)


def _logout_everywhere(app, client, runner) -> None:  # type: ignore[no-untyped-def]
    client.post("/account/logout-everywhere", data={"csrf_token": csrf_token(client, "/account")})


def _change_password(app, client, runner) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/account/password", data={"csrf_token": csrf_token(client, "/account"), "current": "pw",
                                               "new": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)


def _reset_by_centre(app, client, runner) -> None:  # type: ignore[no-untyped-def]
    centre = app.test_client()  # the centre, in its own browser
    login(centre, "centre")
    user_id = _user_id(app, "coord")
    r = centre.post(f"/admin/users/{user_id}/reset-password", data={"csrf_token": csrf_token(centre, "/")})
    assert r.status_code == 200, r.get_data(as_text=True)


def _deactivate(app, client, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["deactivate-user", "coord"])
    assert result.exit_code == 0, result.output


def _user_id(app, username: str) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import User

    with app.app_context():
        return int(db.session.scalar(select(User.id).where(User.username == username)))


EVENTS: list[tuple[str, Callable[..., None], bool]] = [
    ("logout", _logout, False),
    ("logout everywhere", _logout_everywhere, False),
    ("own password change", _change_password, True),
    ("password reset by the centre", _reset_by_centre, False),
    ("deactivation", _deactivate, False),
]


@pytest.mark.parametrize(("name", "event", "actor_stays"), EVENTS, ids=[e[0] for e in EVENTS])
def test_a_copied_cookie_dies_with_the_session(app, client, runner, area, name, event, actor_stays) -> None:  # type: ignore[no-untyped-def]
    assert login(client, "coord").status_code == 302
    saved = _cookie(client)
    elsewhere = app.test_client()  # the same user on a second computer
    assert login(elsewhere, "coord").status_code == 302
    assert _logged_in(_replay(app, saved))  # the copy works until the event…
    event(app, client, runner)
    assert not _logged_in(_replay(app, saved)), name  # …and never after it
    assert not _logged_in(elsewhere), name  # every other session of the user ended too
    # The browser that changed its own password stays logged in (under a new cookie).
    assert _logged_in(client) is actor_stays


def test_another_users_session_is_untouched(app, client, area) -> None:  # type: ignore[no-untyped-def]
    other = app.test_client()
    login(other, "lead")
    login(client, "coord")
    logout(client)
    assert _logged_in(other)


@pytest.mark.parametrize(("idle_s", "alive"), [(0, True), (-60, True), (1, False), (3600, False)],
                         ids=["just-now", "a-minute-inside", "a-second-over", "an-hour-over"])
def test_idle_timeout(app, client, area, idle_s: int, alive: bool) -> None:  # type: ignore[no-untyped-def]
    """A session unused for SESSION_IDLE_S is over (its last activity set back in the cookie)."""
    login(client, "coord")
    limit = app.config["SESSION_IDLE_S"]
    with client.session_transaction() as session:
        session[LAST_SEEN] -= limit + idle_s
    assert _logged_in(client) is alive


def test_activity_keeps_the_session_and_refreshes_the_cookie_at_most_once_a_minute(app, client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "coord")
    client.get("/")  # the first page stores the form's CSRF token in the session
    assert "Set-Cookie" not in client.get("/").headers  # then no new cookie on every request
    with client.session_transaction() as session:
        session[LAST_SEEN] -= app.config["SESSION_IDLE_S"] - 30  # 30 s left
        before = session[LAST_SEEN]
    response = client.get("/")
    assert response.status_code == 200 and "Set-Cookie" in response.headers
    with client.session_transaction() as session:
        assert session[LAST_SEEN] > before  # the idle time starts again


def test_sessions_end_after_their_lifetime_however_active(app, client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "coord")
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    with client.session_transaction() as session:
        session[LOGGED_IN_AT] -= lifetime + 1
    assert not _logged_in(client)


def test_a_session_from_before_this_change_is_refused(app, client, area) -> None:  # type: ignore[no-untyped-def]
    """A cookie signed before sessions carried a generation (or forged without one) is no login."""
    login(client, "coord")
    with client.session_transaction() as session:
        for key in list(session):
            if key.startswith("auth_"):
                del session[key]
    assert not _logged_in(client)


# /account and /admin × every role: every login has an account page; the centre resets
# another's password; a committee only its own coordinators' and grid leads' (issue 19,
# tests/test_admin_users.py): the target here is no committee's, so for it that login does
# not exist (404).
ROLES = ["anonymous", "coordinator", "grid_lead", "committee", "centre", "police", "reporter"]
USERNAMES = {"coordinator": "coord", "grid_lead": "lead", "committee": "comm", "centre": "centre",
             "police": "police", "reporter": "rep"}
PAGES = [
    ("account", "GET", "/account", set(USERNAMES)),
    ("confirm_reset", "GET", "/admin/users/{target}/reset-password", {"centre"}),
    ("reset", "POST", "/admin/users/{target}/reset-password", {"centre"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "template", "allowed"), PAGES, ids=[p[0] for p in PAGES])
def test_account_and_admin_matrix(app, client, area, db_session, role, name, method, template, allowed) -> None:  # type: ignore[no-untyped-def]
    from tests import factories as f

    f.user(db_session, "rep", "reporter", committee_id=area.committees["A"].id)
    target = f.user(db_session, "target", "coordinator")
    db_session.commit()
    if role != "anonymous":
        assert login(client, USERNAMES[role]).status_code == 302
    url = template.format(target=target.id)
    if method == "GET":
        response = client.get(url)
    else:
        token = csrf_token(client, "/login" if role == "anonymous" else "/account")
        response = client.post(url, data={"csrf_token": token})
    want = 302 if role == "anonymous" else 200 if role in allowed else 404 if role == "committee" else 403
    assert response.status_code == want, response.get_data(as_text=True)[:300]
