"""Login throttling per client address, shared by every worker (counted in the database).

The delays per account and network (webapp.auth.delays) slow guessing one account's
password; this stops one address trying many accounts (credential stuffing). Only failures count, so
a centre registering dozens of phones from one office address is never refused; while an
address is over the limit, its attempts are refused before any password is checked.
"""
from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import RateCounter
from webapp.registry.ratelimit import hit, window_start
from webapp.registry.tasks import client_key
from webapp.base.timeutil import utcnow


def settings() -> tuple[int, int]:
    """Failures allowed per address and the window, seconds (config.py: LOGIN_FAILURES_PER_IP,
    LOGIN_IP_WINDOW_S; set there only, so the README's defaults are the ones in force)."""
    cfg = current_app.config
    return int(cfg["LOGIN_FAILURES_PER_IP"]), int(cfg["LOGIN_IP_WINDOW_S"])


def _key() -> str:
    # Keyed hash (IPv6 by /64), never the raw address: the counter table is not the audit log.
    return "login:ip:" + client_key(request.remote_addr, current_app.config["SECRET_KEY"])


def retry_after(session: Session) -> int:
    """Seconds this address must wait before trying again; 0 when it may try now."""
    limit, window = settings()
    now = utcnow()
    start = window_start(now, window)
    count = session.scalar(select(RateCounter.count).where(RateCounter.key == _key(),
                                                            RateCounter.window_start == start))
    if count is None or count < limit:
        return 0
    return max(1, math.ceil((start + timedelta(seconds=window) - now).total_seconds()))


def count_failure(session: Session) -> None:
    """Count a failed login against this address (the caller commits)."""
    limit, window = settings()
    hit(session, _key(), limit, window)
