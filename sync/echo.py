"""No echo: the writes of a push the phone already holds, and what the server added to them.

A mutation applied as sent leaves the record as the phone has it, but for what the server
set beside the phone's values: a derived field (a person's sex and birth date from the ID
number), a default, a normalised value, who closed a task. The push's answer tells the phone
exactly those (`set`) with the new version; the receipt keeps that version, and protocol 2's
pull leaves the record out while it is still at that version (sync/pull.py). Anything else
(merged, a conflict, another mutation of the batch that did not apply as sent on the same
record) is not an echo: the pull brings the record as before. A value typed in a field the
role does not see in clear is told back as the role holds it (`null`, and its mask), so the
phone keeps no more than a snapshot would give it.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sync.batch import Mutation, Outcome
from sync.state import State
from sync.wire import PRIVATE_COLUMNS, to_wire
from sync.write import Write
from webapp.registry import privacy

# Told otherwise: the version by the outcome; the rest is bookkeeping protocol 2 never sends.
NOT_TOLD = frozenset({"id", "version", "changed_at", "changed_by_id", "seq"}) | PRIVATE_COLUMNS
_ABSENT = object()
_NOTHING: frozenset[str] = frozenset()


def tell(writes: list[tuple[Mutation, Outcome, Write]], state: State, role: str) -> None:
    """Set `told` on every outcome applied as sent (after the batch's writes)."""
    written: dict[tuple[str, uuid.UUID], set[str]] = defaultdict(set)
    for _m, _o, work in writes:
        for kind, inserted in work.inserts:
            written[(kind, inserted["id"])] |= set(inserted)
        for kind, rid, _expected, values in work.updates:
            written[(kind, rid)] |= set(values)
    key = lambda m: (m.type, state.alias.get(m.record_id, m.record_id))  # noqa: E731
    # A record some mutation of the batch did not write as sent: its pull brings it whole.
    unsure = {key(m) for m, o, _ in writes if o.status != "applied"}
    for m, o, _work in writes:
        record = key(m)
        row = state.get(*record)
        if o.status != "applied" or o.version is None or record in unsure or row is None:
            continue
        told: dict[str, Any] = {}
        unclear = privacy.unclear(role, m.type)
        for name in (written.get(record, _NOTHING) | m.fields.keys()) - NOT_TOLD:
            stored = row.get(name)
            sent = m.fields.get(name, _ABSENT)
            if sent is _ABSENT:
                if stored is not None:
                    told[name] = to_wire(stored)  # set by the server alone
            elif (value := to_wire(stored)) != to_wire(sent) or name in unclear:
                told[name] = value  # normalised or derived otherwise than typed; or not the role's to hold
        o.told = _as_held(role, m.type, told, (m.fields.keys() | told.keys()) & unclear) if told else {}


def _as_held(role: str, kind: str, told: dict[str, Any], typed_unclear: Iterable[str]) -> dict[str, Any]:
    """`told` as the role may hold it. What it typed, or worked out itself, in a field it sees
    masked or not at all (a grid lead's new resident: the ID number, the birth date read from
    it) comes back as `null` beside its mask: the phone forgets its own value and keeps what a
    pull would have given it (protocol 1's pull sent the record back masked; protocol 2's none,
    and the numbers stayed in clear)."""
    out = privacy.phone_rows(role, kind, [told])[0]
    for name in typed_unclear:
        out[name] = None
    return out
