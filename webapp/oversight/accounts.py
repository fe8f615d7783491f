"""Logins' lifecycle: ending sessions, setting passwords, deactivating. Plain Python over a
session (no Flask): the console, the command line and issue 19's user pages call the same.
The caller hashes passwords (webapp.auth.passwords), audits and commits."""
from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from sync import devices
from webapp.models import User
from webapp.base.timeutil import utcnow

# No 0/O, 1/l/I: a temporary password is read out or copied by hand.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def end_sessions(session: Session, user: User) -> None:
    """End every console session of the user, on every worker (webapp/auth/sessions.py).

    Bumped in SQL, so two bumps at once both count; the attribute reloads when next read."""
    user.session_generation = User.session_generation + 1
    session.flush()


def set_password(session: Session, user: User, password_hash: str, *, temporary: bool = False) -> None:
    """A new password ends every session of the user. A temporary one (the centre's reset) must
    be changed at the next login before anything else."""
    user.password_hash = password_hash
    user.password_changed_at = utcnow()
    user.must_change_password = temporary
    end_sessions(session, user)


def temporary_password() -> str:
    """Twelve random characters in three groups (about 59 bits): shown once to the centre."""
    chars = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(12))
    return "-".join(chars[i:i + 4] for i in range(0, 12, 4))


def deactivate(session: Session, user: User, by_user_id: int | None) -> int:
    """Disable the login: no new login, every console session ended, every phone's token
    revoked (a revoked phone hands over its outbox, then wipes). Returns how many tokens
    were revoked."""
    user.active = False
    end_sessions(session, user)
    return devices.revoke_all(session, user, by_user_id)
