"""Pull: the changes a device has not seen, in commit order, scoped to its cells.

A round reads rows with base < seq ≤ high-water, where the high-water mark is the counter's
committed value when the round began; pages go table by table in (seq, id) order. The first
round (base 0) is a consistent snapshot: rows changed while it pages get a number above the
mark and arrive in the next round. The cursor is opaque to the app.

The cursor also says which cells the phone holds once it has applied every page up to it (the
device's cells when that page was read). Each page compares them with the cells now: what
was taken away is evicted and what was given arrives in full on that very page, whichever
page of a round or snapshot it is (a round that compared only on its first page kept a cell
taken away mid-round on the phone for good). The same cursor asked again (an answer lost)
answers the same. A MAC binds it to the server's key and the device's user, so a phone
cannot claim cells it never held to have their houses listed.

Reading a page writes nothing. What the device row keeps of its pulls (when it last pulled,
the cells its last round covered, read only for a version 1 cursor) is recorded separately
by `record`, and only when it changed or has aged: a write on every page took a row lock and
a commit for what is a read, and on SQLite made every pull wait for the one writer.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON, BigInteger, Boolean, ColumnElement, Date, DateTime, Float, Integer, String, Table, Uuid, and_, bindparam, exists,
    false, literal, or_,
    Select, Text, cast, func, select, text, true, type_coerce, union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from sync import compact
from sync.conflict_news import conflicts_for
from sync.state import is_postgresql, listed
from sync.wire import PULLED_MODELS, RECORD_TYPES, public_columns, row_to_wire, to_wire, wire_name
from webapp.models import Cell, Device, House, Residency, ScopeChange, SyncMutation
from webapp.registry.sequence import committed_seq
from webapp.registry import privacy
from webapp.registry.scope import scope_for
from webapp.base.timeutil import utcnow

TABLES: tuple[Table, ...] = tuple(m.__table__ for m in PULLED_MODELS)  # type: ignore[attr-defined]
NAMES = tuple(t.name for t in TABLES)
# The visits a phone holds: enough to tell which houses were visited this collection cycle at
# any moment of it, the longest cycle (a quarter: July to September, 92 days) included. With
# 90, a quarter's first day had left the phone by its last, and houses visited then showed
# unvisited (tests/test_visit_window.py). The field app keeps the same (static/pwa/keep.js).
RECENT_VISITS = timedelta(days=93)
# The console shows when a phone last synced to the minute, and looks for stale work in days.
RECORD_PULL_EVERY = timedelta(minutes=1)
_HOUSE_CHILDREN = frozenset({"house_code", "room", "house_flag", "house_event", "unit", "visit", "task", "residency",
                             "review"})


def recent_visits_since(now: datetime) -> datetime:
    """The oldest visit a phone holds at `now` (tests/vectors/visit_window.json)."""
    return now - RECENT_VISITS


class CursorInvalid(ValueError):
    pass


MAX_CHANGE = 2**63 - 1  # change numbers are BIGINT (a phone's seq has its own, sync/batch.MAX_SEQ)
# A cell in a cursor: its UUID's 16 bytes in unpadded base64url. "*" for every cell.
_CELL_CHARS = 22
_CELLS_TEXT = re.compile(r"\*|(?:[A-Za-z0-9_-]{22})*")
MAX_CURSOR_CELLS = 10_000


@dataclass
class Cursor:
    base: int
    high: int
    table: int = 0
    after_seq: int = 0
    after_id: str = ""
    # The cells whose records the phone holds once it has applied the pages up to this cursor
    # (None: every cell). A version 1 cursor did not say (`held_said` False): `pull` takes
    # the cells recorded on the device row, which the rounds of that time compared against.
    held: frozenset[uuid.UUID] | None = None
    held_said: bool = True
    # The role the phone's rows were masked for (None: a version 1 or 2 cursor did not say).
    role: str | None = None

    def encode(self, key: bytes, user: int | None, role: str) -> str:
        body = (f"3.{self.base}.{self.high}.{self.table}.{self.after_seq}.{self.after_id}."
                f"{_cells_text(self.held)}.{role}")
        return f"{body}.{_mac(key, user, body)}"

    @classmethod
    def decode(cls, text: str, key: bytes = b"", user: int | None = None) -> Cursor:
        try:
            version, rest = text.split(".", 1)
            if version == "1":  # before the held cells travelled in it: still accepted
                base, high, table, after_seq, after_id = rest.split(".")
                held, said, role = None, False, None
            elif version in ("2", "3"):  # 2: before the role travelled in it, still accepted
                body, mac = text.rsplit(".", 1)
                if not hmac.compare_digest(mac, _mac(key, user, body)):
                    raise ValueError
                fields = rest.rsplit(".", 1)[0].split(".")
                role = fields.pop() if version == "3" else None
                base, high, table, after_seq, after_id, cells = fields
                held, said = _cells_of(cells), True
            else:
                raise ValueError
            if after_id:
                uuid.UUID(after_id)
            cursor = cls(int(base), int(high), int(table), int(after_seq), after_id, held, said, role)
        except ValueError:
            raise CursorInvalid(text) from None
        if not (0 <= cursor.base <= cursor.high <= MAX_CHANGE and 0 <= cursor.table <= len(TABLES)
                and 0 <= cursor.after_seq <= MAX_CHANGE):
            # Past a 64-bit seq no query can take it: a 500 deep in the driver before.
            raise CursorInvalid(text)
        return cursor

    @property
    def round_start(self) -> bool:
        return self.table == 0 and self.after_seq == 0 and not self.after_id


def _cells_text(cells: frozenset[uuid.UUID] | None) -> str:
    if cells is None:
        return "*"
    return "".join(base64.urlsafe_b64encode(c.bytes)[:_CELL_CHARS].decode() for c in sorted(cells))


def _cells_of(text: str) -> frozenset[uuid.UUID] | None:
    if text == "*":
        return None
    if not _CELLS_TEXT.fullmatch(text) or len(text) > _CELL_CHARS * MAX_CURSOR_CELLS:
        raise ValueError(text)
    return frozenset(uuid.UUID(bytes=base64.urlsafe_b64decode(text[i:i + _CELL_CHARS] + "=="))
                     for i in range(0, len(text), _CELL_CHARS))


def _mac(key: bytes, user: int | None, body: str) -> str:
    """The cursor's seal: the server's key over the device's user and the cursor. A phone reads
    its cursor but cannot make one: one naming cells it never held would be answered with their
    houses' ids as evictions (and another user's cursor with that user's)."""
    digest = hmac.new(key, f"{user}|{body}".encode(), hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode()


@dataclass
class PullPage:
    cursor: str
    more: bool
    snapshot: bool
    high_water: int
    changes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    evict: dict[str, list[str]] = field(default_factory=dict)
    last_applied_seq: int = 0
    # The device's cells as of a completed round (None: the round goes on, or all cells).
    round_cells: list[str] | None = None
    round_complete: bool = False
    # The user's conflicts, open or lately decided (sync/conflict_news.py): first page of a round only.
    conflicts: list[dict[str, Any]] | None = None
    # Protocol 2: the device's own writes left out (it holds them: sync/echo.py).
    echoes: int = 0
    # Rows sent because they came into the device's cells (a house moved in, a cell added),
    # not because they changed: the phone dropped them when they left, so they are sent even
    # at the version the device's own write made (never taken for an echo).
    restored: set[str] = field(default_factory=set)

    def to_wire(self, protocol: int = 1) -> dict[str, Any]:
        changes: dict[str, Any] = self.changes
        if protocol >= 2:
            changes = {name: compact.table(rows, name) for name, rows in self.changes.items()}
        evict: dict[str, Any] = self.evict
        conflicts = self.conflicts
        if protocol < 2:  # its first names (sync/wire.py: a task is a "tip")
            changes = {wire_name(name, protocol): rows for name, rows in changes.items()}
            evict = {wire_name(name, protocol): ids for name, ids in evict.items()}
            conflicts = None if conflicts is None else [
                {**c, "record_type": wire_name(c["record_type"], protocol)} for c in conflicts]
        out = {"cursor": self.cursor, "more": self.more, "snapshot": self.snapshot,
               "high_water": self.high_water, "changes": changes, "evict": evict,
               "last_applied_seq": self.last_applied_seq,
               "count": sum(len(rows) for rows in self.changes.values())}
        if protocol >= 2:
            out["echoes"] = self.echoes
        if conflicts is not None:
            out["conflicts"] = conflicts
        return out


def pull(session: Session, device: Device, cursor_text: str | None, limit: int = 2000,
         protocol: int = 1, key: bytes = b"") -> PullPage:
    """One page for the device after `cursor_text` (None: a snapshot). `key` seals the cursors
    (the app's secret key; the same for every page of a device). Raises CursorInvalid."""
    scope = scope_for(session, device.user)
    cells = scope.cell_ids
    if cursor_text:
        cursor = Cursor.decode(cursor_text, key, device.user_id)
        if cursor.role is not None and cursor.role != device.user.role:
            # The user's role changed since: the phone's rows were masked for the old one (a
            # grid lead made a coordinator holds residents' numbers masked, and only records
            # that change would come again). It starts again from a snapshot for the new role.
            raise CursorInvalid(cursor_text)
        if not cursor.held_said:
            cursor.held = _recorded_cells(device, cells)
        if cursor.table == len(TABLES):  # the last round is complete: start the next one
            cursor = Cursor(cursor.high, max(cursor.high, committed_seq(session)), held=cursor.held)
    else:
        cursor = Cursor(0, committed_seq(session), held=cells)
    if (cursor.held is None) != (cells is None):
        # From every cell to some (a centre's login given a committee's role) or back: what to
        # evict, or to send, is most of the district. The phone starts again from a snapshot.
        raise CursorInvalid(cursor_text or "")
    page = PullPage(cursor="", more=False, snapshot=cursor.base == 0, high_water=cursor.high,
                    last_applied_seq=device.last_seq)
    # Before the planner settings below: the probe's thirteen EXISTS plan the same whatever
    # the values (each walks its seq index), and planning them anew cost PostgreSQL more than
    # running them (0.35 of 0.39 ms a pull).
    changed = None if page.snapshot else _tables_changed(session, cursor)
    if is_postgresql(session):
        # A page's statements repeat with other values (cursor, cells); psycopg prepares a
        # statement after five runs and PostgreSQL may then keep one generic plan, blind to
        # the values: a first sync's person pages then took seconds each (rounds of 4 s grew
        # to 33 s). Plan each with its values, for this transaction only.
        # A first sync's child rows are found by probing each of the device's houses (6,055
        # at 50,000 records): at the default random_page_cost (4, a spinning disk) PostgreSQL
        # preferred a parallel scan of every residency of the district on every page, 80-170 ms
        # a page instead of 30. The rows are in memory here, as on any server sized for its
        # district; so cost a random read as a cached one, for this transaction only.
        session.execute(text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
                             "set_config('random_page_cost', '1.1', true)"))
    if cursor.round_start and cursor.base > 0:
        _scope_moves(session, cells, cursor, page)
    if cursor.held != cells:
        # Between any two pages: taken away is evicted, given arrives whole, on this page; the
        # cursor it answers holds the cells as they are now.
        _cells_changed(session, cursor.held, cells, cursor, page)
        cursor.held = cells
    if cursor.round_start:
        page.conflicts = conflicts_for(session, device, utcnow(), scope)
    remaining = limit
    found: list[tuple[Table, list[Any]]] = []
    postgresql = is_postgresql(session)
    while cursor.table < len(TABLES) and remaining > 0:
        table = TABLES[cursor.table]
        skip = changed is not None and cursor.table not in changed
        rows = [] if skip else _rows(session, table, cells, cursor, page.snapshot, remaining)
        if rows:
            remaining -= len(rows)
            cursor.after_seq, cursor.after_id = rows[-1].seq or 0, _encoder(table, postgresql)(rows[-1])["id"]
            found.append((table, rows))
        if remaining > 0:
            cursor.table, cursor.after_seq, cursor.after_id = cursor.table + 1, 0, ""
    # Not in a snapshot: the phone starts its store again from one.
    held = _held_by(session, device, found) if protocol >= 2 and not page.snapshot else set()
    residencies: list[dict[str, Any]] = []
    for table, rows in found:
        encode = _encoder(table, postgresql)
        if table.name not in RECORD_TYPES:
            wire = [encode(r) for r in rows]
        elif table.name == "residency":
            # All of them, the device's own too: a person moving in comes with their residency.
            wire = [encode(r) for r in rows]
            residencies += wire
            if held:
                wire = [w for w, r in zip(wire, rows, strict=True) if not _echo(r, held, page.restored)]
        else:
            wire = [encode(r) for r in rows if not (held and _echo(r, held, page.restored))]
        page.echoes += len(rows) - len(wire)
        if wire:
            page.changes.setdefault(table.name, []).extend(wire)
    if not page.snapshot and residencies:
        _persons_moving_in(session, cells, cursor, page, residencies)
    page.more = cursor.table < len(TABLES)
    if not page.more:
        page.round_complete = True
        page.round_cells = sorted(str(c) for c in cells) if cells is not None else None
    page.cursor = cursor.encode(key, device.user_id, device.user.role)
    _mask_for(device.user.role, page)
    return page


def _held_by(session: Session, device: Device, found: list[tuple[Table, list[Any]]]) -> set[tuple[uuid.UUID, int]]:
    """Of the page's records, (id, version) of those still at the version one of this
    device's mutations made, as the phone sent it (its receipt keeps that version:
    sync/echo.py): the phone holds them, and they are left out before being encoded. One
    query for the whole page."""
    ids = {_as_uuid(r.id) for table, rows in found if table.name in RECORD_TYPES for r in rows}
    if not ids:
        return set()
    return {(r.record_id, r.version) for r in session.connection().execute(_held(is_postgresql(session)), {
        "device": device.id, "ids": list(ids)})}


def _echo(row: Any, held: set[tuple[uuid.UUID, int]], restored: set[str]) -> bool:
    """Whether the phone holds this row as it is (`_held_by`); a row the page restores
    (a scope move) is sent whatever the phone wrote."""
    if (_as_uuid(row.id), row.version) not in held:
        return False
    return not restored or _uuid_wire(row.id) not in restored


def _as_uuid(value: Any) -> uuid.UUID:
    """SQLite's rows keep a UUID as its 32 hex digits, PostgreSQL's driver gives a uuid.UUID."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


@cache
def _held(postgresql: bool) -> Any:
    """The receipts of the page's records, found by record id. SQLite, which has no
    statistics, searched by device instead: every pull read all the receipts the phone
    ever had (0.55 ms after 4,000, growing by a phone's every mutation). PostgreSQL, with
    them, chooses the record ids by itself."""
    device = SyncMutation.device_id if postgresql else _unindexed(SyncMutation.device_id)
    return select(SyncMutation.record_id, SyncMutation.version).where(
        device == bindparam("device"), SyncMutation.version.is_not(None),
        listed(SyncMutation.record_id, "ids", postgresql))


def _mask_for(role: str, page: PullPage) -> None:
    """What the role may not read in clear leaves masked or not at all (webapp/registry/privacy.py):
    a phone never holds more than its user's console shows."""
    for name, rows in page.changes.items():
        page.changes[name] = privacy.phone_rows(role, name, rows)


def needs_record(device: Device, page: PullPage) -> bool:
    """Whether the device row should note this page: its cells changed, or a minute passed."""
    if page.round_complete and page.round_cells != device.cells:
        return True
    return device.last_pull_at is None or utcnow() - device.last_pull_at >= RECORD_PULL_EVERY


def record(device: Device, page: PullPage) -> None:
    """Note the pull on the device row: when, and the cells its completed round covered (a
    version 1 cursor, from before the cursor said which cells the phone holds, is compared
    against them: `_recorded_cells`)."""
    if page.round_complete:
        device.cells = page.round_cells
    device.last_pull_at = device.last_seen_at = utcnow()


def _tables_changed(session: Session, cursor: Cursor) -> set[int]:
    """Which tables hold any row numbered within the round, anywhere: one round trip on the
    seq indexes, so that a sync after a few minutes does not query a dozen tables where
    nothing happened (most of a pull's time under load went to those empty queries)."""
    if cursor.table >= len(TABLES):
        return set()
    return set(session.connection().scalars(_probe(cursor.table), {"base": cursor.base, "high": cursor.high}))


@cache
def _probe(first: int) -> Any:
    """The probe from table `first` on, built once: building thirteen EXISTS in Python on
    every pull was a quarter of an incremental pull's time."""
    base, high = bindparam("base", type_=BigInteger()), bindparam("high", type_=BigInteger())
    return union_all(*[select(literal(i)).where(exists().where(t.c.seq > base, t.c.seq <= high))
                       for i, t in enumerate(TABLES) if i >= first])


def _rows(session: Session, table: Table, cells: frozenset[uuid.UUID] | None, cursor: Cursor,
          snapshot: bool, limit: int, *, person_shortcut: bool = True) -> list[Any]:
    if person_shortcut and snapshot and cells is not None and table.name == "person" and cursor.after_id:
        return _snapshot_persons(session, table, cells, cursor, limit)
    if not snapshot:
        # Every sync's pull: one statement per table, built once.
        if cells is not None and not cells:
            return []
        params: dict[str, Any] = {"base": cursor.base, "high": cursor.high, "after_seq": cursor.after_seq,
                                  "limit": limit}
        if cells is not None:
            params["cells"] = list(cells)
        if cursor.after_id:
            params["after_id"] = uuid.UUID(cursor.after_id)
        return list(session.connection().execute(
            _changes(table, is_postgresql(session), bool(cursor.after_id), cells is None), params))
    c = table.c
    seq: ColumnElement[Any] = c.seq
    scope = _in_cells(table, cells)
    if cells is not None:
        # A first sync reads the device's share of the district, a few percent of it, where
        # most rows carry one number (an import, the first seeding): walking the seq index and
        # testing each row's scope read the whole table for every page (SQLite, persons: 1.8 s
        # a page at 263,000 houses). So the scope drives (houses by cell, their rows by
        # house_id, persons by their open residencies) and only the page's rows are sorted:
        # on SQLite `seq + 0` keeps the seq index out of the plan; PostgreSQL, planning with
        # the values (see `pull`), chooses well by itself and was slower with it (bench/findings.md).
        if not is_postgresql(session):
            seq = c.seq + 0
        if table.name == "person":
            scope = c.id.in_(_residents(cells))
    after_id = uuid.UUID(cursor.after_id) if cursor.after_id else None
    clauses = [*_in_round(seq, c.id, cursor.base, cursor.high, cursor.after_seq, after_id), scope]
    clauses += _snapshot_only(table)
    # Core rows straight from the connection, ids and times as stored (the encoder writes
    # their wire form directly: no uuid.UUID or datetime made only to be turned into text).
    public = _stored_columns(table, is_postgresql(session))
    return list(session.connection().execute(select(*public).where(*clauses).order_by(seq, c.id).limit(limit)))


@cache
def _changes(table: Table, postgresql: bool, paged: bool, every_cell: bool) -> Any:
    """What changed in the cells (`cells`; every cell for the roles that see them all) in the
    round (`base`, `high`] after the cursor (`after_seq`, and `after_id` when `paged`): an
    incremental pull's statement for `table`, built once with its values as parameters
    (building and keying it anew was a tenth of a pull's time).

    On SQLite the seq index drives and the scope only filters (`indexed=False`). Without
    statistics to weigh one index against the other, SQLite let the scope drive: every pull
    read all of its area's visits, residencies, codes... ever written, to keep the few
    numbered in the round (visits: 1.8 ms a pull after 4,000 of them, growing with the
    area's history). The work now follows the district's changes since the last pull, and a
    page stops at its limit. PostgreSQL plans with the values (see `pull`) and chooses itself."""
    c = table.c
    big = BigInteger()
    scope = true() if every_cell else _scope_of(table, bindparam("cells", expanding=True), indexed=postgresql)
    after_id = bindparam("after_id", type_=c.id.type) if paged else None
    clauses = _in_round(c.seq, c.id, bindparam("base", type_=big), bindparam("high", type_=big),
                        bindparam("after_seq", type_=big), after_id)
    return (select(*_stored_columns(table, postgresql)).where(*clauses, scope)
            .order_by(c.seq, c.id).limit(bindparam("limit", type_=Integer())))


def _in_round(seq: Any, row_id: Any, base: Any, high: Any, after_seq: Any, after_id: Any) -> list[ColumnElement[bool]]:
    """Rows numbered in the round (`base`, `high`] past the cursor: after (`after_seq`,
    `after_id`) in (seq, id) order, or after `after_seq` on a table's first page (no id)."""
    clauses = [seq > base, seq <= high]
    if after_id is None:
        return clauses + [seq > after_seq]
    # `seq >= after_seq` is implied by the OR, which no index can search: with it a table's
    # later pages start the seq index where the last one ended, not at the round's beginning.
    return clauses + [or_(seq > after_seq, and_(seq == after_seq, row_id > after_id)), seq >= after_seq]


def _snapshot_persons(session: Session, table: Table, cells: frozenset[uuid.UUID], cursor: Cursor,
                      limit: int) -> list[Any]:
    """A first sync's later person pages, the same rows in the same order as `_rows` gives.

    `_rows` finds every resident of the device's houses (15,000 at 50,000 records), reads
    their rows and sorts them to take the next page: each of a round's eight person pages
    did all of that again (70 ms a page on PostgreSQL). Most persons of a snapshot share the
    page's last number (an import, the first seeding), and those come in id order: so first
    the next `limit` residents by id above the cursor (ids only, from the residency index),
    and the persons among them still at that number. Whatever follows the last resident
    looked at (a later number, or that number past a gap of other numbers) is `_rows` from
    there, so the pages stay exactly what they were."""
    c = table.c
    after_seq, after_id = cursor.after_seq, uuid.UUID(cursor.after_id)
    residents = list(session.scalars(
        select(Residency.person_id).where(Residency.end_date.is_(None), Residency.deleted_at.is_(None),
                                          Residency.house_id.in_(_houses_in(cells)), Residency.person_id > after_id)
        .distinct().order_by(Residency.person_id).limit(limit)))
    rows: list[Any] = []
    if residents:
        public = _stored_columns(table, is_postgresql(session))
        seq = c.seq + 0  # the ids drive: most persons of the district may share this number
        rows = list(session.connection().execute(select(*public).where(
            c.id.in_(residents), seq == after_seq, seq > cursor.base, seq <= cursor.high,
            *_snapshot_only(table)).order_by(c.id)))
        if len(rows) >= limit:
            return rows[:limit]
        after_id = residents[-1]
    rest = Cursor(cursor.base, cursor.high, cursor.table, after_seq, str(after_id))
    return rows + _rows(session, table, cells, rest, True, limit - len(rows), person_shortcut=False)


@cache
def _stored_columns(table: Table, postgresql: bool) -> tuple[Any, ...]:
    """The table's public columns as `_as_stored` reads them, built once per table."""
    return tuple(_as_stored(table.c[n], postgresql) for n in public_columns(table))


def _as_stored(column: Any, postgresql: bool) -> Any:
    kind = getattr(column.type, "impl", column.type)
    if postgresql:
        # Text made by the database: psycopg's uuid.UUID and aware datetime per value were a
        # third of a 50,000-record first sync's Python time. PostgreSQL writes a UUID as
        # str(uuid) does; a time as SQLite keeps it (UTC, "YYYY-MM-DD HH:MM:SS.ffffff"), which
        # `_time_wire` writes out directly.
        if isinstance(column.type, Uuid):
            return cast(column, Text).label(column.name)
        if isinstance(kind, DateTime):
            return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS.US").label(column.name)
        return column
    if isinstance(column.type, Uuid) or isinstance(kind, DateTime):
        return type_coerce(column, String).label(column.name)
    return column


@cache
def _encoder(table: Table, postgresql: bool = False) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A row of the table's public columns → its wire dict, as `row_to_wire` makes it, with
    each column's conversion chosen once rather than tested per value (a first sync of
    50,000 records converts about a million values)."""
    names = public_columns(table)
    steps = [None if postgresql and isinstance(table.c[n].type, Uuid) else _converter(table.c[n].type)
             for n in names]

    def encode(row: Sequence[Any]) -> dict[str, Any]:
        return {n: v if f is None or v is None else f(v) for n, f, v in zip(names, steps, row, strict=True)}
    return encode


def _converter(column_type: Any) -> Callable[[Any], Any] | None:
    kind = getattr(column_type, "impl", column_type)  # a TypeDecorator's stored type
    if isinstance(column_type, Uuid):
        return _uuid_wire
    if isinstance(kind, DateTime):
        return _time_wire
    if isinstance(kind, Date):
        return date.isoformat
    if isinstance(kind, (String, Integer, Float, Boolean, JSON)):
        return None  # already a JSON value
    return to_wire


def _uuid_wire(value: Any) -> str:
    """SQLite keeps a UUID as 32 hex digits; PostgreSQL's driver gives a uuid.UUID."""
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value) if not isinstance(value, str) else str(uuid.UUID(value))


def _time_wire(value: Any) -> Any:
    """`to_wire` of the aware UTC time: SQLite keeps naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff"
    (written out directly), PostgreSQL's driver gives an aware datetime."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            text = value[:10] + "T" + (value[11:19] if value.endswith(".000000") else value[11:])
            return text + "Z"
        value = datetime.fromisoformat(value)
        value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
    return to_wire(value)


def _residents(cells: frozenset[uuid.UUID]) -> Any:
    """Persons with an open residency in one of the cells' houses (not correlated: read once)."""
    return select(Residency.person_id).where(Residency.end_date.is_(None), Residency.deleted_at.is_(None),
                                             Residency.house_id.in_(_houses_in(cells)))


def _houses_in(cells: frozenset[uuid.UUID]) -> Any:
    return select(House.id).where(House.cell_id.in_(cells))


def _in_cells(table: Table, cells: frozenset[uuid.UUID] | None) -> ColumnElement[bool]:
    """The rows of `table` in the cells (None: every cell)."""
    if cells is None:
        return true()
    if not cells:
        return false()
    return _scope_of(table, cells)


def _scope_of(table: Table, cells: Any, *, indexed: bool = True) -> ColumnElement[bool]:
    """The rows of `table` in `cells` (ids, or an expanding parameter). `indexed=False`: the
    test may not use an index of the table's own (SQLite: another index drives the query,
    this one only filters)."""
    name = table.name
    column = (lambda c: c) if indexed else _unindexed
    if name == "committee":
        return table.c.id.in_(select(Cell.committee_id).where(Cell.id.in_(cells)))
    if name == "cell":
        return table.c.id.in_(cells)
    if name == "house":
        return column(table.c.cell_id).in_(cells)
    if name in _HOUSE_CHILDREN:
        return column(table.c.house_id).in_(_houses_in(cells))
    if name == "person":
        # A person travels with a residency in one of the device's houses.
        return exists(select(Residency.id).where(
            Residency.person_id == table.c.id, Residency.end_date.is_(None),
            Residency.deleted_at.is_(None), Residency.house_id.in_(_houses_in(cells))))
    raise KeyError(name)


def _unindexed(column: Any) -> Any:
    """`+column`: the same value, but SQLite's planner may not search an index with it (its
    documented way to choose between indexes)."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _snapshot_only(table: Table) -> list[ColumnElement[bool]]:
    """A first sync needs no tombstones, past residencies, old visits, closed tasks or approved reviews."""
    c = table.c
    out: list[ColumnElement[bool]] = [c.deleted_at.is_(None)]
    if table.name == "residency":
        out.append(c.end_date.is_(None))
    if table.name == "visit":
        out.append(c.visited_at >= recent_visits_since(utcnow()))
    if table.name == "task":
        out.append(c.status == "open")
    if table.name == "review":
        out.append(c.status != "approved")
    return out


def _persons_moving_in(session: Session, cells: frozenset[uuid.UUID] | None, cursor: Cursor,
                       page: PullPage, residencies: list[dict[str, Any]]) -> None:
    """A new residency brings its person into the device's cells even though the person's
    own row did not change (its number is below this round): send the person too (also for
    a residency the page leaves out as the device's own: its person may be new to it)."""
    table = TABLES[NAMES.index("person")]
    ids = {uuid.UUID(r["person_id"]) for r in residencies
           if r.get("end_date") is None and r.get("deleted_at") is None}
    rows = session.execute(select(table).where(
        table.c.id.in_(ids), table.c.seq <= cursor.base, table.c.deleted_at.is_(None),
        _in_cells(table, cells))).all() if ids else []
    if rows:
        columns = public_columns(table)
        page.changes.setdefault("person", []).extend(row_to_wire(r, columns) for r in rows)


def _houses_in_full(session: Session, house_ids: set[uuid.UUID], cells: frozenset[uuid.UUID],
                    cursor: Cursor, page: PullPage) -> None:
    """Houses that moved into the device's cells arrive with everything that hangs off them."""
    where: ColumnElement[bool]
    for table in TABLES:
        if table.name == "house":
            where = table.c.id.in_(house_ids)
        elif table.name in _HOUSE_CHILDREN:
            where = table.c.house_id.in_(house_ids)
        elif table.name == "person":
            where = exists(select(Residency.id).where(
                Residency.person_id == table.c.id, Residency.end_date.is_(None),
                Residency.deleted_at.is_(None), Residency.house_id.in_(house_ids)))
        else:
            continue
        rows = session.execute(select(table).where(
            where, _in_cells(table, cells), table.c.seq <= cursor.high, *_snapshot_only(table))).all()
        _restore(page, table, rows)


@cache
def _scope_changes(postgresql: bool) -> Select[str, uuid.UUID, str]:
    return select(ScopeChange.record_type, ScopeChange.record_id, ScopeChange.kind).where(
        listed(ScopeChange.cell_id, "cells", postgresql),
        ScopeChange.seq > bindparam("base", type_=BigInteger()), ScopeChange.seq <= bindparam("high", type_=BigInteger()))


def _restore(page: PullPage, table: Table, rows: Sequence[Any]) -> None:
    if rows:
        columns = public_columns(table)
        wire = [row_to_wire(r, columns) for r in rows]
        page.changes.setdefault(table.name, []).extend(wire)
        page.restored.update(r["id"] for r in wire)


def _recorded_cells(device: Device, cells: frozenset[uuid.UUID] | None) -> frozenset[uuid.UUID] | None:
    """What a version 1 cursor's phone holds, as the rounds of that time took it: the cells of
    its last complete round (those of every page until one completes). Comparing a mid-round
    version 1 cursor with them again at worst evicts, or sends, a second time what that round's
    first page did."""
    if device.cells is None:
        return cells
    return frozenset(uuid.UUID(c) for c in device.cells)


def _scope_moves(session: Session, cells: frozenset[uuid.UUID] | None, cursor: Cursor, page: PullPage) -> None:
    """What entered or left the device's cells without changing itself, in the round (its first page)."""
    if cells is None:
        return
    events = session.connection().execute(_scope_changes(is_postgresql(session)), {
        "cells": list(cells), "base": cursor.base, "high": cursor.high}).all()
    entering = {i for t, i, k in events if k == "enter" and t == "house"}
    if entering:
        _houses_in_full(session, entering, cells, cursor, page)
    leaving = {(t, i) for t, i, k in events if k == "leave"}
    # A house that left and came back within the round is still here.
    leaving -= {("house", i) for i in entering}
    persons = {i for t, i in leaving if t == "person"}
    if persons:
        # Moved within the device's own cells: still visible, so not evicted.
        staying = set(session.scalars(select(Residency.person_id).where(
            Residency.person_id.in_(persons), Residency.end_date.is_(None), Residency.deleted_at.is_(None),
            Residency.house_id.in_(_houses_in(cells)))))
        leaving = {(t, i) for t, i in leaving if not (t == "person" and i in staying)}
    stays = {i for t, i in leaving if t == "residency"}
    if stays:
        # A stay moved to another house of the device's cells: still here.
        here = set(session.scalars(select(Residency.id).where(
            Residency.id.in_(stays), Residency.house_id.in_(_houses_in(cells)))))
        leaving = {(t, i) for t, i in leaving if not (t == "residency" and i in here)}
    for record_type, record_id in sorted(leaving, key=str):
        page.evict.setdefault(record_type, []).append(str(record_id))


def _cells_changed(session: Session, held: frozenset[uuid.UUID] | None, cells: frozenset[uuid.UUID] | None,
                   cursor: Cursor, page: PullPage) -> None:
    """The device's cells are not those the phone holds (`held`, from its cursor): cells taken
    away are evicted, cells given sent in full, on this page. Rare (a change of assignment),
    and then a few indexed queries; a page whose cells did not change runs none."""
    if held is None or cells is None:
        return
    dropped, added = held - cells, cells - held
    if dropped:
        gone = set(session.scalars(select(House.id).where(House.cell_id.in_(dropped))))
        # And a house that left a dropped cell after the phone last heard of its moves: a
        # round's first page tells those numbered in the round for the cells it had then; a
        # snapshot read only houses not moved since its mark. Unless it is in the cells now.
        since = cursor.high if page.snapshot else cursor.base
        moved = set(session.scalars(select(ScopeChange.record_id).where(
            ScopeChange.cell_id.in_(dropped), ScopeChange.seq > since,
            ScopeChange.record_type == "house", ScopeChange.kind == "leave"))) - gone
        if moved and cells:
            moved -= set(session.scalars(select(House.id).where(House.id.in_(moved), House.cell_id.in_(cells))))
        if gone or moved:
            page.evict.setdefault("house", []).extend(sorted(str(h) for h in gone | moved))
        # The cells themselves, and a committee none of the device's cells belongs to any more:
        # a snapshot would not hold them either (the phone's cell list, its map and map tiles).
        page.evict.setdefault("cell", []).extend(sorted(str(c) for c in dropped))
        kept = set(session.scalars(select(Cell.committee_id).where(Cell.id.in_(cells)))) if cells else set()
        left = set(session.scalars(select(Cell.committee_id).where(Cell.id.in_(dropped)))) - kept
        if left:
            page.evict.setdefault("committee", []).extend(sorted(str(c) for c in left))
    if added:
        # Newly given cells arrive in full, whatever their rows' numbers, once: the cursor this
        # page answers holds them.
        for table in TABLES:
            rows = session.execute(select(table).where(
                _in_cells(table, frozenset(added)), table.c.seq <= cursor.high, *_snapshot_only(table))).all()
            _restore(page, table, rows)
