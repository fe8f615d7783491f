"""Password hashing and checking, at the same cost whether or not the account exists."""
from __future__ import annotations

from functools import lru_cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.auth.policy import Weakness, weaknesses
from webapp.models import User

# The demo logins' password as the README prints it: public, so never a real one.
README_DEMO_PASSWORD = "gridwalk-demo"


def _method() -> str:
    return str(current_app.config["PASSWORD_HASH_METHOD"])


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_method())


@lru_cache(maxsize=8)
def dummy_hash(method: str) -> str:
    """A hash made like real ones (same method and cost), checked when there is no account to
    check: a failed login then costs the same whether or not the username exists. Made once
    per method, when first needed, so it follows PASSWORD_HASH_METHOD whatever it is set to."""
    return generate_password_hash("not-a-password", method=method)


def check_login(user: User | None, password: str) -> bool:
    """True only for an active user with this password. One hash is always checked (the
    user's, or a dummy of the same cost), so no answer comes back faster for an unknown or
    disabled account; the delays after failures are webapp.auth.delays' business."""
    stored = user.password_hash if user is not None else dummy_hash(_method())
    if not _encodable(password):
        # A lone surrogate (JSON can carry one) is no one's password; hashing it would fail.
        check_password_hash(stored, "")
        return False
    matches = check_password_hash(stored, password)
    return matches and user is not None and user.active


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def new_password_weaknesses(password: str, username: str) -> list[Weakness]:
    """The password policy (webapp.auth.policy) for a password chosen for a real login: the
    demo password, printed in the README and by `flask demo-logins`, is refused as well."""
    published = (README_DEMO_PASSWORD, str(current_app.config["DEMO_PASSWORD"]))
    return weaknesses(password, username, published)
