"""Console sessions that end when they should, although they are signed cookies.

A signed cookie cannot be taken back: one copied before logout would otherwise work until
it expires. So each session carries the user's `session_generation` at login, and the user
loader refuses a session whose generation is no longer the user's (logout, a password change
or reset, and deactivation bump it: every session of that user ends at once, on every worker).
It also refuses a session idle for SESSION_IDLE_S, or older than SESSION_LIFETIME_S since
login (the cookie's own signature age restarts whenever the session is rewritten).
"""
from __future__ import annotations

from flask import current_app, session

from webapp.extensions import db
from webapp.models import User
from webapp.base.timeutil import utcnow

GENERATION, LOGGED_IN_AT, LAST_SEEN = "auth_gen", "auth_at", "auth_seen"
# Last activity is rewritten at most this often: not a new cookie on every request.
SEEN_EVERY_S = 60


def _now() -> int:
    return int(utcnow().timestamp())


def stamp(user: User) -> None:
    """Mark the session just logged in (or whose password was just changed here) as the user's
    current one."""
    now = _now()
    session[GENERATION] = user.session_generation
    session[LOGGED_IN_AT] = session[LAST_SEEN] = now


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user of this session, if the session still holds."""
    try:
        user = db.session.get(User, int(user_id))
    except ValueError:
        return None
    if user is None or not user.active or not _holds(user):
        _forget()
        return None
    return user


def _holds(user: User) -> bool:
    generation, at, seen = session.get(GENERATION), session.get(LOGGED_IN_AT), session.get(LAST_SEEN)
    if generation != user.session_generation or not isinstance(at, int) or not isinstance(seen, int):
        return False
    now = _now()
    idle, lifetime = int(current_app.config["SESSION_IDLE_S"]), current_app.permanent_session_lifetime
    if now - seen > idle or now - at > lifetime.total_seconds():
        return False
    if now - seen >= SEEN_EVERY_S:
        session[LAST_SEEN] = now
    return True


def _forget() -> None:
    """Drop the login from the cookie (its language choice stays)."""
    for key in ("_user_id", "_fresh", "_id", GENERATION, LOGGED_IN_AT, LAST_SEEN):
        session.pop(key, None)
