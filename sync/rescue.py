"""Rescue: a phone's exported outbox, imported by the centre through the push code itself.

A phone that cannot sync (weeks without network, a broken app, a revoked device) exports
`{"device_id", "protocol", "mutations": [...]}` (docs/sync.md §6), sealed to the server's key
when the phone holds it (§6.1, sync/sealed.py): opened here, then read as a plain file. The
file is applied as that device's push would be (`parse_batch` + `apply_batch`), revoked or
not, so outcomes and idempotency are the push's own: importing a file twice applies nothing
twice.

Judged by the device's user as they are now (their role and cells today, not when the work
was typed), with one rule on top, so that nothing typed is lost because its user changed:

- a user whose role now changes nothing (made police or a community reporter): every
  mutation of the file waits for the centre as an `out_of_scope` conflict, kept whole, as a
  coordinator's work from cells taken away from them does (a phone's push is answered
  `rejected` with `role.read_only` and keeps the entry in its outbox; a rescued phone has
  been wiped). What any push refuses whoever sends it (a field the type has not, a value
  that fails its rule, an operation the type has not) is still `rejected`
  (`apply_batch(..., rescue=True)`, sync/apply.py);
- moved to other cells, or to a role that sees numbers masked (committee, grid lead), or
  deactivated: the push's own rules already keep the work (`out_of_scope` and `field`
  conflicts, sync/apply.py), nothing more is needed.
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from sync.batch import MAX_MUTATIONS, Batch, BatchInvalid, Outcome, parse_batch
from sync.push import apply_batch
from sync.reach import Locate
from sync.sealed import SealError, ServerKey, is_sealed, open_sealed
from webapp.base.json_body import BodyRefused
from webapp.base.json_body import parse as parse_json
from webapp.models import Device


class RescueInvalid(Exception):
    """The file is not a phone's outbox export."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


@dataclass
class RescueFile:
    device_id: uuid.UUID
    batches: list[Batch]  # in file order, at most MAX_MUTATIONS each, as pushes would be
    sealed: bool = False  # it came sealed to the server's key (a phone that held it)

    @property
    def count(self) -> int:
        return sum(len(b.mutations) for b in self.batches)


@dataclass
class RescueResult:
    device: Device
    outcomes: list[Outcome]

    def counts(self) -> dict[str, int]:
        return dict(Counter(o.status for o in self.outcomes))


def read_file(data: bytes, keys: Sequence[ServerKey] = ()) -> RescueFile:
    """`keys`: the server's (sync/sealed.py), today's first and then those of former
    SECRET_KEYs, to open a file a phone sealed to one of them."""
    body = _json(data)
    sealed = is_sealed(body)
    if sealed:
        if not keys:
            raise RescueInvalid("sealed.no_key", "此文件已加密，需由服务器打开", "this file is sealed: the server must open it")
        try:
            body = _json(open_sealed(body, next((k for k in keys if k.kid == body.get("kid")), keys[0])))
        except SealError as error:
            raise RescueInvalid(error.code, error.zh, error.en) from None
    if not isinstance(body, dict) or not isinstance(body.get("mutations"), list):
        raise RescueInvalid("rescue.shape", "文件不是手机导出的待同步数据", "the file is not a phone's outbox export")
    try:
        device_id = uuid.UUID(str(body.get("device_id")))
    except ValueError:
        raise RescueInvalid("rescue.device", "文件缺少有效的设备编号", "the file has no valid device_id") from None
    raw: list[Any] = body["mutations"]
    chunks = [raw[i:i + MAX_MUTATIONS] for i in range(0, len(raw), MAX_MUTATIONS)] or [[]]
    try:
        # The pending count is the app's to report: a file says nothing about what is left.
        batches = [parse_batch({"protocol": body.get("protocol"), "app_version": body.get("app_version"),
                                "mutations": chunk}) for chunk in chunks]
    except BatchInvalid as invalid:
        raise RescueInvalid(invalid.code, f"文件内容无效：{invalid.detail}", f"the file is invalid: {invalid.detail}") from None
    return RescueFile(device_id, batches, sealed)


def _json(data: bytes) -> Any:
    try:
        # Read as a push's body is: a file of a few hundred kilobytes of "[" ended in a
        # RecursionError (a 500 on the centre's upload) when read with json.loads alone.
        return parse_json(data, "utf-8-sig")
    except BodyRefused as refused:
        if refused.code == "invalid_json":
            raise RescueInvalid("rescue.not_json", "文件不是有效的 JSON", "the file is not valid JSON") from None
        raise RescueInvalid(refused.code, f"文件内容无效：{refused.zh}", f"the file is invalid: {refused.en}") from None


def import_file(session: Session, rescue: RescueFile, locate: Locate) -> RescueResult:
    """Apply the file as the device's own pushes; flush, no commit (the caller commits once).
    `locate` as for a push (sync.push.apply_batch)."""
    device = session.get(Device, rescue.device_id)
    if device is None:
        raise RescueInvalid("rescue.device_unknown", "找不到文件中的设备", "the file's device is not registered here")
    # What the phone itself last did stays as it was: a rescue is not the phone syncing.
    seen, pushed, pending = device.last_seen_at, device.last_push_at, device.pending
    outcomes: list[Outcome] = []
    for batch in rescue.batches:
        outcomes += apply_batch(session, device, batch, locate=locate, rescue=True).outcomes
    device.last_seen_at, device.last_push_at = seen, pushed
    # The file is the phone's whole outbox: once imported, nothing of it is stranded any more.
    device.pending = 0 if rescue.count else pending
    session.flush()
    return RescueResult(device, outcomes)
