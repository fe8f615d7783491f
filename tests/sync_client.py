"""A minimal sync client following docs/sync.md, for property tests, load and benchmarks.

It keeps a local replica and an outbox exactly as the field app must: a mutation is queued
before anything else, leaves the outbox only on an acknowledged outcome, and pulled pages
are applied then evictions; rows a snapshot would not hold are pruned as they arrive, and at
the end of a round persons without an open residency are dropped (docs/sync.md §4, "What the
phone keeps").
"""
from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from geo.assign import CellFinder

Send = Callable[[str, dict[str, Any] | None, str | None], dict[str, Any]]
ACKNOWLEDGED = {"applied", "merged", "already_applied", "conflict"}
HOUSE_CHILDREN = ("house_code", "room", "house_flag", "house_event", "unit", "visit", "task", "residency", "review")
RECENT_VISITS = timedelta(days=93)  # docs/sync.md §4
# Protocol 1 names the task table by its first name (docs/sync.md): this client keeps "task"
# and says "tip" on the wire when it speaks protocol 1, as the app of that time did.
PROTOCOL_1_NAMES = {"task": "tip"}
FROM_PROTOCOL_1 = {old: new for new, old in PROTOCOL_1_NAMES.items()}


def outside(table: str, row: dict[str, Any], now: datetime) -> bool:
    """A pulled row a snapshot would not hold (docs/sync.md §4): the phone deletes it."""
    if row.get("deleted_at"):
        return True
    if table == "residency":
        return row.get("end_date") is not None
    if table == "task":
        return row.get("status") != "open"
    if table == "review":
        return row.get("status") == "approved"
    if table == "visit":
        return datetime.fromisoformat(row["visited_at"].replace("Z", "+00:00")) < now - RECENT_VISITS
    return False


def expand_page(page: dict[str, Any]) -> dict[str, Any]:
    """A protocol 2 page with its tables as rows of objects, as protocol 1 sends them."""
    tables = {name: [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
              for name, columns in page["changes"].items()}
    return {**page, "changes": tables}


def full_outcomes(batch: list[dict[str, Any]], outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Protocol 2's outcomes name only the seq: the rest is the queued mutation's."""
    by_seq = {m["seq"]: m for m in batch}
    return [{"id": by_seq[o["seq"]]["id"], "type": by_seq[o["seq"]]["type"],
             "record_id": by_seq[o["seq"]]["record_id"], **o} for o in outcomes]


class Phone:
    def __init__(self, send: Send, prune: bool = True, protocol: int = 1) -> None:
        # send(kind, body, cursor) → response JSON; kind is "push" or "pull". `prune=False`
        # keeps the rows a snapshot would not hold (ended residencies, approved reviews, closed
        # tasks): for tests of how the server answers edits of such rows. Protocol 2's
        # answers are compact: an outcome names only its seq; a page's tables are columns and
        # rows; the pull leaves out what this phone wrote as applied (docs/sync.md §7).
        self.send = send
        self.prune = prune
        self.protocol = protocol
        self.rows: dict[str, dict[str, dict[str, Any]]] = {}
        self.outbox: list[dict[str, Any]] = []
        self.failed: list[dict[str, Any]] = []  # rejected or blocked: to fix by hand
        self.cursor: str | None = None
        self.next_seq = 1
        self.sent: list[dict[str, Any]] = []  # every mutation ever queued

    # ---- local edits (offline)
    def queue(self, kind: str, op: str, record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        local = self.rows.get(kind, {}).get(record_id)
        mutation = {"id": str(uuid.uuid4()), "seq": self.next_seq, "type": kind, "op": op,
                    "record_id": record_id, "fields": fields,
                    "base_version": local["version"] if local and op != "create" else None,
                    "base": {k: local.get(k) for k in fields} if local else {},
                    "at": "2026-11-26T08:00:00Z"}
        self.next_seq += 1
        self.outbox.append(mutation)
        self.sent.append(mutation)
        # Optimistic local state, as the app shows it at once.
        row = dict(local or {"id": record_id, "version": 0})
        row.update(fields)
        self.rows.setdefault(kind, {})[record_id] = row
        return mutation

    # ---- sync
    def push(self, drop_response: bool = False) -> list[dict[str, Any]]:
        if not self.outbox:
            return []
        batch = list(self.outbox)
        sent = batch if self.protocol >= 2 else [
            {**m, "type": PROTOCOL_1_NAMES.get(m["type"], m["type"])} for m in batch]
        answer = self.send("push", {"protocol": self.protocol, "clock": "2026-11-26T08:00:00Z",
                                    "pending": len(batch), "mutations": sent}, None)
        if drop_response:
            return []  # the server committed, the phone never heard: it will resend
        outcomes: list[dict[str, Any]] = answer["outcomes"]
        if self.protocol < 2:
            outcomes = [{**o, "type": FROM_PROTOCOL_1.get(o["type"], o["type"])} for o in outcomes]
        if self.protocol >= 2:
            outcomes = full_outcomes(batch, outcomes)
            for o in outcomes:
                self._learn(o)
        done = {o["id"]: o for o in outcomes}
        keep = []
        for m in self.outbox:
            outcome = done.get(m["id"])
            status = outcome and (outcome.get("first_status") or outcome["status"])
            if outcome is None:
                keep.append(m)
            elif status in ("rejected", "blocked"):
                self.failed.append({**m, "outcome": outcome})
            elif outcome.get("canonical_id"):
                self._rename(m["type"], m["record_id"], outcome["canonical_id"])
            elif status == "conflict" and m["op"] == "create":
                # Not in the registry: the centre has the device's values; drop the local copy.
                self.rows.get(m["type"], {}).pop(m["record_id"], None)
        self.outbox = keep
        return outcomes

    def pull(self) -> None:
        while True:
            fresh = self.cursor is None
            page = self.send("pull", None, self.cursor)
            if self.protocol >= 2:
                page = expand_page(page)
            else:
                page = {**page, "changes": {FROM_PROTOCOL_1.get(t, t): rows for t, rows in page["changes"].items()},
                        "evict": {FROM_PROTOCOL_1.get(t, t): ids for t, ids in page["evict"].items()}}
            if fresh and page["snapshot"]:
                # A snapshot carries no tombstones: start the replica again from it.
                self.rows = {t: {k: v for k, v in rows.items() if k in self._queued()} for t, rows in self.rows.items()}
            now = datetime.now(timezone.utc)
            queued = self._queued()
            for table, rows in page["changes"].items():
                for row in rows:
                    if (row.get("deleted_at") or self.prune and outside(table, row, now)) and row["id"] not in queued:
                        self.rows.get(table, {}).pop(row["id"], None)
                    else:
                        self.rows.setdefault(table, {})[row["id"]] = row
            for table, ids in page["evict"].items():
                for rid in ids:
                    self._evict(table, rid)
            # Mutations up to last_applied_seq are on the server; they stay in the outbox until
            # a push answers for them (already_applied with first_status), so no outcome is lost.
            self.cursor = page["cursor"]
            if not page["more"]:
                # Only once the round is complete: a person's residency may be on a later page.
                self._drop_unhoused()
                if self.prune:
                    self._age_visits(now)
                return

    def sync(self, drop_response: bool = False) -> None:
        self.push(drop_response)
        self.pull()

    # ---- local bookkeeping
    def _learn(self, outcome: dict[str, Any]) -> None:
        """Protocol 2: a write applied as sent does not come back by the pull; its new version
        and what the server set beside the phone's values come in the answer."""
        status = outcome.get("first_status") or outcome["status"]
        if status != "applied" or outcome.get("version") is None:
            return
        row = self.rows.get(outcome["type"], {}).get(outcome["record_id"])
        if row is not None:
            row.update(outcome.get("set", {}), version=outcome["version"])

    def _rename(self, kind: str, old: str, new: str) -> None:
        """A create merged into another record (docs/sync.md §3): what names the local id names
        the canonical one, and the local copy goes. It is never put under the canonical id: the
        registry's record is the one the phone holds, or the pull brings; a copy would stand for
        it with the phone's values (an ended residency current again, when the answer came late
        and the pull meanwhile dropped the record), and no pull would correct it."""
        self.rows.get(kind, {}).pop(old, None)
        if kind in ("person", "house"):
            for row in self.rows.get("residency", {}).values():
                if row.get(f"{kind}_id") == old:
                    row[f"{kind}_id"] = new
        for m in self.outbox:
            if m["record_id"] == old:
                m["record_id"] = new
            for key, value in m["fields"].items():
                if value == old:
                    m["fields"][key] = new

    def _evict(self, table: str, rid: str) -> None:
        self.rows.get(table, {}).pop(rid, None)
        if table == "house":
            for child in HOUSE_CHILDREN:
                for key, row in list(self.rows.get(child, {}).items()):
                    if row.get("house_id") == rid:
                        del self.rows[child][key]

    def _queued(self) -> set[str]:
        return {m["record_id"] for m in self.outbox}

    def _age_visits(self, now: datetime) -> None:
        queued = self._queued()
        for key, row in list(self.rows.get("visit", {}).items()):
            if key not in queued and outside("visit", row, now):
                del self.rows["visit"][key]

    def _drop_unhoused(self) -> None:
        housed = {r["person_id"] for r in self.rows.get("residency", {}).values()
                  if r.get("end_date") is None}
        pending = {m["record_id"] for m in self.outbox if m["type"] == "person"}
        for pid in list(self.rows.get("person", {})):
            if pid not in housed and pid not in pending:
                del self.rows["person"][pid]


def registered_phone(client: Any, username: str, log: list[Any] | None = None, prune: bool = True,
                     protocol: int = 1) -> Phone:
    """A phone registered through the API by a Flask test client (password "pw"), first pull
    done; `user_id` is the registration's user, as the app keeps it (its tasks are "mine");
    `headers` carry its token.
    Every answer the server gives it is appended to `log`, if given. Protocol 2 sends its
    pushes gzip-compressed, as the field app does."""
    registered = client.post("/api/devices", json={"username": username, "password": "pw", "label": "测试手机"})
    assert registered.status_code == 201, registered.get_data(as_text=True)
    headers = {"Authorization": f"Bearer {registered.get_json()['token']}"}

    def send(kind: str, body: dict[str, Any] | None, cursor: str | None) -> dict[str, Any]:
        if kind == "push" and protocol >= 2:
            response = client.post("/api/sync/push", data=gzip.compress(json.dumps(body).encode()),
                                   headers={**headers, "Content-Type": "application/json", "Content-Encoding": "gzip"})
        elif kind == "push":
            response = client.post("/api/sync/push", json=body, headers=headers)
        else:
            query = {"protocol": str(protocol), **({"cursor": cursor} if cursor else {})}
            response = client.get("/api/sync/pull", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        if log is not None:
            log.append(response.get_json())
        return response.get_json()  # type: ignore[no-any-return]

    phone = Phone(send, prune, protocol)
    phone.user_id = registered.get_json()["user"]["id"]  # type: ignore[attr-defined]
    phone.headers = headers  # type: ignore[attr-defined]  # to ask the API outside a round
    phone.pull()
    return phone


def direct(session: Any, device: Any, protocol: int, limit: int = 1000) -> Send:
    """A transport without HTTP: the push and pull functions on `session`, each call committed,
    the answers through JSON as on the wire (`limit` small to exercise paging)."""
    from sync.batch import parse_batch
    from sync.pull import pull
    from sync.push import apply_batch

    def send(kind: str, body: dict[str, Any] | None, cursor: str | None) -> dict[str, Any]:
        if kind == "push":
            result = apply_batch(session, device, parse_batch(body), locate=CellFinder(session))
            session.commit()
            answer = {"outcomes": [o.to_wire(protocol) for o in result.outcomes], "last_seq": result.last_seq}
        else:
            answer = pull(session, device, cursor, limit=limit, protocol=protocol).to_wire(protocol)
            session.commit()
        return json.loads(json.dumps(answer))  # type: ignore[no-any-return]
    return send
