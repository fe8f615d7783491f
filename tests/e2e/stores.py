"""What a phone's store holds against what a fresh snapshot would give it: the yardstick of the
paging tests (issue 16 §1–2). Records compare by id and version, table by table."""
from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from playwright.sync_api import BrowserContext, Page
from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.pull import pull
from tests.e2e.conftest import LiveServer
from webapp.models import Device, User

Store = dict[str, dict[str, int]]

PHONE_STORE = """async () => {
  const {db, TABLES} = await import('/static/pwa/db.js');
  const d = await db(); const out = {};
  for (const t of TABLES) out[t] = Object.fromEntries((await d.getAll(t)).map((r) => [r.id, r.version]));
  return out;
}"""


def phone_store(page: Page) -> Store:
    return {t: rows for t, rows in page.evaluate(PHONE_STORE).items() if rows}


def device_of(server: LiveServer, username: str) -> Any:
    with Session(server.engine) as s:
        return s.scalars(select(Device.id).join(Device.user).where(User.username == username, Device.revoked_at.is_(None))
                         .order_by(Device.created_at.desc())).first()


def fresh_snapshot(server: LiveServer, username: str) -> Store:
    """What a first sync of this user's phone would store now: one page holding everything."""
    with Session(server.engine) as s:
        device = s.get(Device, device_of(server, username))
        assert device is not None
        page = pull(s, device, None, limit=10_000_000)
        assert not page.more
        s.rollback()  # a pull only reads
    return {t: {r["id"]: r["version"] for r in rows} for t, rows in page.changes.items() if rows}


def differences(phone: Store, snapshot: Store) -> dict[str, dict[str, list[str]]]:
    """Per table, the ids only the phone holds, only the snapshot holds, or at other versions."""
    out: dict[str, dict[str, list[str]]] = {}
    for table in sorted(set(phone) | set(snapshot)):
        mine, theirs = phone.get(table, {}), snapshot.get(table, {})
        diff = {"extra": sorted(set(mine) - set(theirs)), "missing": sorted(set(theirs) - set(mine)),
                "version": sorted(i for i in set(mine) & set(theirs) if mine[i] != theirs[i])}
        if any(diff.values()):
            out[table] = diff
    return out


class Pages:
    """Makes every pull of a browser context ask for `size()` rows a page, and runs `between()`
    before each page reaches the server (a write elsewhere, mid-round). Counts the pages. A
    push that carries its pull (docs/sync.md §3) is a page too: its `pull.limit` is rewritten
    in the (gzip-compressed) body the same way; `carried` counts those."""

    def __init__(self, context: BrowserContext, size: Callable[[], int],
                 between: Callable[[], None] | None = None) -> None:
        self.size, self.between, self.count, self.carried = size, between, 0, 0
        self.context = context
        context.route("**/api/sync/pull?*", self._handle)
        context.route("**/api/sync/push", self._handle_push)

    def _handle(self, route: Any) -> None:
        parts = urlsplit(route.request.url)
        query = dict(parse_qsl(parts.query))
        query["limit"] = str(self.size())
        self.count += 1
        if self.between is not None:
            self.between()
        route.continue_(url=urlunsplit(parts._replace(query=urlencode(query))))

    def _handle_push(self, route: Any) -> None:
        raw = route.request.post_data_buffer or b""
        packed = route.request.headers.get("content-encoding") == "gzip"
        body = json.loads(gzip.decompress(raw) if packed else raw)
        if not isinstance(body.get("pull"), dict):
            route.continue_()
            return
        body["pull"]["limit"] = self.size()
        self.count += 1
        self.carried += 1
        if self.between is not None:
            self.between()
        data = json.dumps(body).encode()
        route.continue_(post_data=gzip.compress(data) if packed else data)

    def close(self) -> None:
        self.context.unroute("**/api/sync/pull?*", self._handle)
        self.context.unroute("**/api/sync/push", self._handle_push)
