"""Password hashing and login lock-out, kept in the database so every worker agrees."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.models import User
from webapp.timeutil import utcnow

# Compared against when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-password", method="pbkdf2:sha256:1")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def check_login(user: User | None, password: str) -> bool:
    """True when the password is right; counts failures and locks after too many."""
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return False
    if is_locked(user) or not user.active:
        return False
    if check_password_hash(user.password_hash, password):
        user.failed_logins = 0
        user.locked_until = None
        return True
    user.failed_logins += 1
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = utcnow() + timedelta(seconds=current_app.config["LOGIN_LOCKOUT_S"])
        user.failed_logins = 0
    return False
