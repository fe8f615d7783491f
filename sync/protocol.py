"""Which protocol versions this server speaks, and for how long the previous one stays served.

An app updates only when its user taps 更新, so a phone may go on with the old app for weeks
with work queued: protocol 1 stays served, pushes and pulls alike, for PROTOCOL_PREVIOUS_DAYS
from the day this server first spoke protocol 2 (recorded by the migration that brought it,
table `sync_protocol`), then answers 426 `protocol_outdated` like any older version.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import SyncProtocol

PROTOCOL = 2
PREVIOUS = 1
# Rows a pull page holds: asked by `limit`, or by a push's `pull.limit` (docs/sync.md §3, §4).
PULL_LIMIT_DEFAULT, PULL_LIMIT_MAX = 2000, 10_000


class ProtocolRefused(Exception):
    """The request names a version this server does not serve (HTTP 400, 422 or 426)."""

    STATUS = {"protocol_outdated": 426, "protocol_unsupported": 400, "invalid_protocol": 422}

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail, self.status = code, detail, self.STATUS[code]


# The start, once read: it never changes after the migration wrote it (a query per request
# was a millisecond of every sync).
_since: dict[str, datetime] = {}


def previous_until(session: Session, days: int) -> datetime | None:
    """The moment protocol 1 stops being served (None: no record of protocol 2's start, so
    the grace has not begun)."""
    key = str(session.get_bind().engine.url)
    since = _since.get(key)
    if since is None:
        since = session.scalar(select(SyncProtocol.since).where(SyncProtocol.protocol == PROTOCOL))
        if since is not None:
            _since[key] = since
    return None if since is None else since + timedelta(days=days)


def forget() -> None:
    """For tests that move the start."""
    _since.clear()


def accepted(session: Session, now: datetime, days: int) -> frozenset[int]:
    until = previous_until(session, days)
    return frozenset({PROTOCOL, PREVIOUS}) if until is None or now < until else frozenset({PROTOCOL})


def check(protocol: Any, served: frozenset[int]) -> int:
    """An old app is told to update (426); an app newer than the server to wait for it."""
    if not isinstance(protocol, int) or isinstance(protocol, bool):
        raise ProtocolRefused("invalid_protocol", f"protocol must be an integer, not {protocol!r:.40} / protocol 必须是整数")
    if protocol > PROTOCOL:
        raise ProtocolRefused("protocol_unsupported",
                              f"protocol {protocol} is newer than this server's ({PROTOCOL}): the server is updated "
                              f"soon / 应用比服务器新，请等待服务器更新")
    if protocol not in served:
        raise ProtocolRefused("protocol_outdated",
                              f"protocol {protocol} is no longer accepted; update the app (server speaks {PROTOCOL}) / "
                              f"请更新应用")
    return protocol
