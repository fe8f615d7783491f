"""A push request, parsed: the batch envelope and its mutations, and their outcomes."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync import protocol as versions
from sync.wire import RECORD_TYPES, read_name, wire_name
from webapp.validation.text import storable

# The protocol this server speaks, and every version it can read (sync/protocol.py says which
# are served today: the previous one only for its days of grace).
PROTOCOL = versions.PROTOCOL
ACCEPTED_PROTOCOLS = frozenset({versions.PREVIOUS, versions.PROTOCOL})
MAX_MUTATIONS = 5_000
# Versions and the pending count live in 32-bit INTEGER columns; a phone's seq in a 64-bit
# one, up to the largest integer JavaScript holds exactly (a client may number by Date.now()).
MAX_INT32 = 2**31 - 1
MAX_SEQ = 2**53 - 1

OPS = frozenset({"create", "update", "delete"})
DELETABLE = frozenset({"residency", "house_flag", "unit", "room"})


class BatchInvalid(Exception):
    """The request itself is malformed: nothing can be keyed to an outcome (HTTP 422)."""

    def __init__(self, code: str, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.code, self.detail, self.errors = code, detail, errors or []


@dataclass
class Mutation:
    id: uuid.UUID
    seq: int
    type: str
    op: str
    record_id: uuid.UUID
    base_version: int | None
    fields: dict[str, Any]
    base: dict[str, Any]
    at: datetime | None
    # Found while parsing, but the mutation's alone: it is rejected, the batch goes on.
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Outcome:
    mutation_id: uuid.UUID
    seq: int
    status: str  # applied | merged | already_applied | rejected | blocked | conflict
    record_type: str
    record_id: uuid.UUID
    errors: list[dict[str, Any]] = field(default_factory=list)
    conflict_id: uuid.UUID | None = None
    blocked_by: uuid.UUID | None = None
    # Where a merge sent the record (an offline duplicate now means this one).
    canonical_id: uuid.UUID | None = None
    version: int | None = None
    # For already_applied: the status the mutation got when it was first received.
    first_status: str | None = None
    # Applied as sent (sync/echo.py): what the server set beside the phone's values (derived,
    # defaulted or normalised fields), so that protocol 2's pull need not send the record back.
    # None: not such a write (the pull brings the record).
    told: dict[str, Any] | None = None

    def to_wire(self, protocol: int = 1) -> dict[str, Any]:
        if protocol >= 2:
            return self._compact()
        out: dict[str, Any] = {"id": str(self.mutation_id), "seq": self.seq, "status": self.status,
                               "type": wire_name(self.record_type, protocol), "record_id": str(self.record_id)}
        if self.errors:
            out["errors"] = self.errors
        if self.conflict_id:
            out["conflict_id"] = str(self.conflict_id)
        if self.blocked_by:
            out["blocked_by"] = str(self.blocked_by)
        if self.canonical_id:
            out["canonical_id"] = str(self.canonical_id)
        if self.version is not None and (self.status != "already_applied"):
            out["version"] = self.version
        if self.first_status:
            out["first_status"] = self.first_status
        return out

    def _compact(self) -> dict[str, Any]:
        """Protocol 2: only what the phone does not know (it keeps the mutation under its seq)."""
        out: dict[str, Any] = {"seq": self.seq, "status": self.status}
        if self.first_status:
            out["first_status"] = self.first_status
        if self.version is not None:
            out["version"] = self.version
        if self.told:
            out["set"] = self.told
        if self.errors:
            out["errors"] = self.errors
        if self.conflict_id:
            out["conflict_id"] = str(self.conflict_id)
        if self.blocked_by:
            out["blocked_by"] = str(self.blocked_by)
        if self.canonical_id and self.canonical_id != self.record_id:
            out["canonical_id"] = str(self.canonical_id)
        return out


@dataclass(frozen=True)
class PullAsked:
    """The pull a push may carry (docs/sync.md §3): answered with the outcomes, so that a
    sync is one round trip. Read after the batch commits, as `GET /api/sync/pull` would."""
    cursor: str | None
    limit: int


@dataclass
class Batch:
    protocol: int
    app_version: str | None
    clock: datetime | None
    pending: int | None
    mutations: list[Mutation]
    pull: PullAsked | None = None


def _uuid(value: Any, where: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise BatchInvalid("invalid_mutation", f"{where}: not a UUID / {where} 不是 UUID") from None


def _time(value: Any, where: str = "clock", code: str = "invalid_batch") -> datetime | None:
    """The batch's `clock` or a mutation's `at`: named as such when refused (a mutation's
    bad `at` was once reported as the batch's clock)."""
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BatchInvalid(code, f"{where}: not an ISO 8601 time / {where} 不是 ISO 8601 时间") from None
    if moment.tzinfo is None:
        raise BatchInvalid(code, f"{where}: a time zone is required / {where} 须带时区")
    return moment


def check_protocol(protocol: Any, served: frozenset[int] = ACCEPTED_PROTOCOLS) -> int:
    """An old app is told to update (426); an app newer than the server to wait for it."""
    try:
        return versions.check(protocol, served)
    except versions.ProtocolRefused as refused:
        raise BatchInvalid(refused.code, refused.detail) from None


def storable_text(value: Any) -> bool:
    """Absent, or text PostgreSQL can hold: no NUL, no lone surrogate (a 500 deep in a query)."""
    return value is None or (isinstance(value, str) and storable(value))


def parse_batch(body: Any, served: frozenset[int] = ACCEPTED_PROTOCOLS) -> Batch:
    if not isinstance(body, dict):
        raise BatchInvalid("invalid_batch", "the body must be a JSON object / 请求体必须是 JSON 对象")
    protocol = check_protocol(body.get("protocol"), served)
    raw = body.get("mutations")
    if not isinstance(raw, list):
        raise BatchInvalid("invalid_batch", "mutations must be a list / mutations 必须是列表")
    if len(raw) > MAX_MUTATIONS:
        raise BatchInvalid("batch_too_large", f"at most {MAX_MUTATIONS} mutations per push / "
                                              f"每次最多提交 {MAX_MUTATIONS} 条变更")
    pending = body.get("pending")
    app_version = body.get("app_version")
    if isinstance(app_version, str) and not storable_text(app_version):
        # Kept on the device row: refused here rather than by the database.
        raise BatchInvalid("invalid_batch", "app_version contains characters that cannot be stored / "
                                            "app_version 含有无法保存的字符")
    mutations = [_mutation(m, i, protocol) for i, m in enumerate(raw)]
    _one_mutation_per_seq(mutations)
    return Batch(
        protocol=protocol, app_version=str(app_version or "")[:32] or None,
        clock=_time(body.get("clock")),
        pending=pending if isinstance(pending, int) and 0 <= pending <= MAX_INT32 else None,
        mutations=mutations, pull=_pull_asked(body.get("pull")),
    )


def _pull_asked(raw: Any) -> PullAsked | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BatchInvalid("invalid_batch", "pull must be an object {cursor, limit} / pull 必须是对象 {cursor, limit}")
    cursor, limit = raw.get("cursor"), raw.get("limit", versions.PULL_LIMIT_DEFAULT)
    if cursor is not None and not isinstance(cursor, str):
        raise BatchInvalid("invalid_batch", "pull.cursor must be text or null / pull.cursor 必须是文本或 null")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= versions.PULL_LIMIT_MAX:
        raise BatchInvalid("invalid_limit", f"pull.limit must be a whole number from 1 to {versions.PULL_LIMIT_MAX} / "
                                            f"pull.limit 必须是 1 到 {versions.PULL_LIMIT_MAX} 的整数")
    return PullAsked(cursor or None, limit)


def _one_mutation_per_seq(mutations: list[Mutation]) -> None:
    """A phone numbers its mutations once each; the same mutation sent twice is a harmless
    repeat, two mutations under one number a broken outbox (which one would the number ack?)."""
    first: dict[int, uuid.UUID] = {}
    for index, m in enumerate(mutations):
        if first.setdefault(m.seq, m.id) != m.id:
            raise BatchInvalid("invalid_batch", f"mutations[{index}].seq: {m.seq} is already used by another "
                                                f"mutation of this batch / 序号 {m.seq} 已被本批另一条变更使用")


def _mutation(raw: Any, index: int, protocol: int) -> Mutation:
    where = f"mutations[{index}]"
    if not isinstance(raw, dict):
        raise BatchInvalid("invalid_mutation", f"{where}: must be an object / {where} 必须是对象")
    seq = raw.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= MAX_SEQ:
        raise BatchInvalid("invalid_mutation", f"{where}.seq: a positive integer up to 2^53 - 1 is required / "
                                               f"{where}.seq 必须是 1 到 2^53 - 1 的整数")
    kind, op = raw.get("type"), raw.get("op")
    if isinstance(kind, str):
        kind = read_name(kind, protocol)  # protocol 1's "tip" is a task
    if not isinstance(kind, str) or kind not in RECORD_TYPES:
        raise BatchInvalid("invalid_mutation", f"{where}.type: unknown record type {kind!r} / "
                                               f"{where}.type 不是已知的记录类型")
    if not isinstance(op, str) or op not in OPS:
        raise BatchInvalid("invalid_mutation", f"{where}.op: must be create, update or delete / "
                                               f"{where}.op 必须是 create、update 或 delete")
    fields, base = raw.get("fields") or {}, raw.get("base") or {}
    if not isinstance(fields, dict) or not isinstance(base, dict):
        raise BatchInvalid("invalid_mutation", f"{where}: fields and base must be objects / "
                                               f"{where} 的 fields 和 base 必须是对象")
    base_version = raw.get("base_version")
    problems = []
    if base_version is not None and (not isinstance(base_version, int) or isinstance(base_version, bool)
                                     or abs(base_version) > MAX_INT32):
        # No record has such a version: this mutation is refused, the rest of the batch goes on.
        problems.append({"field": "base_version", "code": "base_version.range",
                         "zh": "基准版本号不是有效的版本号", "en": "base_version is not a version any record has"})
        base_version = None
    return Mutation(id=_uuid(raw.get("id"), f"{where}.id"), seq=seq, type=kind, op=op,
                    record_id=_uuid(raw.get("record_id"), f"{where}.record_id"),
                    base_version=base_version, fields=fields, base=base,
                    at=_time(raw.get("at"), f"{where}.at", "invalid_mutation"), problems=problems)
