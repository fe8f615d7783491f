"""Field-level three-way merge of a phone's edit against the registry.

For each field the phone changed, compare three values (in wire form): the one the phone
started from (base), the registry's now (current) and the phone's (incoming). Only the
phone changed it → take it; both changed it to the same value → nothing to do; both
changed it differently → a conflict, and the registry keeps its value until the centre
decides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sync.wire import to_wire

_MISSING = object()


@dataclass
class MergeResult:
    take: dict[str, Any] = field(default_factory=dict)  # field → incoming (column) value
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)  # field → three sides
    silent: bool = True  # nothing was changed by someone else meanwhile

    @property
    def clean(self) -> bool:
        return not self.conflicts


def three_way(current: dict[str, Any], base: dict[str, Any], incoming: dict[str, Any],
              wire_incoming: dict[str, Any], same_version: bool,
              unseen: frozenset[str] = frozenset()) -> MergeResult:
    """`incoming` holds column values, `wire_incoming` the same fields as the phone sent them.

    When the phone's base version is the registry's version nothing changed meanwhile, so
    every field is taken; otherwise a field without a base value is treated as unchanged by
    the phone only if it equals the registry's.

    `unseen`: fields the phone's role sees masked or not at all. Whatever it sends in them is
    never compared with the registry's value (nor with its own base): "equal, nothing to do"
    against "a conflict" answered a grid lead which of 10,000 guesses was a masked phone
    number. At the current version they are taken; behind it, the centre decides.
    """
    result = MergeResult(silent=same_version)
    for name, value in incoming.items():
        now = to_wire(current.get(name))
        mine = to_wire(value)
        if name in unseen:
            if same_version:
                result.take[name] = value
            else:
                started = base.get(name, _MISSING)
                result.conflicts[name] = {"base": None if started is _MISSING else started,
                                          "registry": now, "device": wire_incoming.get(name, mine)}
            continue
        if now == mine:
            continue
        if same_version:
            result.take[name] = value
            continue
        started = base.get(name, _MISSING)
        if started is not _MISSING and to_wire(started) == now:
            result.take[name] = value  # only the phone changed it
        else:
            result.conflicts[name] = {"base": None if started is _MISSING else started,
                                      "registry": now, "device": wire_incoming.get(name, mine)}
    return result
