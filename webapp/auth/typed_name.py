"""The username a failed login typed, as the audit log keeps it.

People type their password into the username box; a failed login's row then held the
password in clear, in the log and its exports. A name that is a login is kept (the centre
sees which accounts are tried); anything else only by its first character and length.
"""
from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from webapp.models import User

LONGEST = 64


def for_the_log(session: Session, typed: str, is_login: bool | None = None) -> str:
    """`is_login`: whether the caller already found a login of this name (a failed login
    looked the user up: no second query); None asks the database."""
    typed = typed[:LONGEST]
    if not typed:
        return ""
    if is_login is None:
        is_login = typed.isprintable() and bool(session.scalar(select(exists().where(User.username == typed))))
    if is_login:
        return typed
    return typed[0] + "*" * (len(typed) - 1) if typed[0].isprintable() else "*" * len(typed)
