"""Growing delays after failed logins, per account name AND client network.

A hard lock of the account after a few failures let anyone lock the centre out by typing a
wrong password five times. Here, failures are counted per (account name, client network):
after LOGIN_ACCOUNT_FREE_FAILURES of them that network must wait 1 s before its next try on
that account, then twice as long after each further failure, at most
LOGIN_ACCOUNT_MAX_DELAY_S. The same account from another network (the centre's office) is not
delayed at all, and a right password from the delayed network after the wait clears its count.

Unknown account names are counted exactly like real ones: the delays must not tell which
names exist. The per-address limit on failures across accounts (webapp.auth.throttle) still
applies on top. Kept in the database (`login_failure`), so every worker agrees; the caller
commits.
"""
from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app, request
from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from webapp.models import LoginFailure
from webapp.registry.tasks import client_key
from webapp.base.timeutil import utcnow

# A network's failures on an account are forgotten this long after the last one.
FORGET = timedelta(days=1)


def settings() -> tuple[int, int]:
    """Free failures, and the longest delay in seconds (config.py; README's settings table)."""
    free = int(current_app.config["LOGIN_ACCOUNT_FREE_FAILURES"])
    longest = int(current_app.config["LOGIN_ACCOUNT_MAX_DELAY_S"])
    if free < 1 or not 1 <= longest <= FORGET.total_seconds():
        raise RuntimeError("need LOGIN_ACCOUNT_FREE_FAILURES ≥ 1 and 1 ≤ LOGIN_ACCOUNT_MAX_DELAY_S ≤ 86400 "
                           "(登录延迟设置无效)")
    return free, longest


def delay_after(failures: int, free: int, longest: int) -> int:
    """Seconds to wait after the `failures`-th failure: none before `free`, then 1, 2, 4 … s."""
    if failures < free:
        return 0
    return min(longest, 2 ** min(failures - free, 30))


def _key(username: str) -> str:
    # Keyed hash of the name and the network (IPv6 by /64): the table names neither.
    secret = current_app.config["SECRET_KEY"]
    network = client_key(request.remote_addr, secret)
    message = b"login-account\x00" + network.encode() + b"\x00" + username.encode("utf-8", "replace")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def retry_after(session: Session, username: str, now: datetime | None = None) -> int:
    """Seconds this network must still wait before trying `username`; 0 when it may try."""
    now = now or utcnow()
    until = session.scalar(select(LoginFailure.blocked_until).where(LoginFailure.key == _key(username)))
    if until is None or until <= now:
        return 0
    return max(1, math.ceil((until - now).total_seconds()))


def count_failure(session: Session, username: str, now: datetime | None = None) -> int:
    """Count a failed login on `username` from this network; return the delay it now owes."""
    free, longest = settings()
    now = now or utcnow()
    key = _key(username)
    failures = _bump(session, key, now)
    if failures == 1:
        # A fresh count: clear out the forgotten ones, so the table stays small unattended.
        session.execute(delete(LoginFailure).where(LoginFailure.last_failure_at < now - FORGET)
                        .execution_options(synchronize_session=False))
    wait = delay_after(failures, free, longest)
    if wait:
        session.execute(update(LoginFailure).where(LoginFailure.key == key)
                        .values(blocked_until=now + timedelta(seconds=wait))
                        .execution_options(synchronize_session=False))
    return wait


def clear(session: Session, username: str) -> None:
    """A right password from this network: its count on that account starts again."""
    session.execute(delete(LoginFailure).where(LoginFailure.key == _key(username))
                    .execution_options(synchronize_session=False))


def _bump(session: Session, key: str, now: datetime) -> int:
    """One atomic upsert (SQLite ≥ 3.35 and PostgreSQL alike), so two workers counting the
    same key at once both count; a count idle past FORGET starts again at 1."""
    insert = _INSERTS[session.get_bind().dialect.name]
    table = LoginFailure.__table__
    stmt = insert(LoginFailure).values(key=key, failures=1, last_failure_at=now).on_conflict_do_update(
        index_elements=[LoginFailure.key],
        set_={"failures": case((table.c.last_failure_at < now - FORGET, 1), else_=table.c.failures + 1),
              "last_failure_at": now},
    ).returning(LoginFailure.failures)
    return int(session.execute(stmt).scalar_one())


_INSERTS: dict[str, Callable[[type[LoginFailure]], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert, "sqlite": sqlite.insert,
}
