"""The natural address order of doors: "2" < "10", "301" < "1201", "3A" < "12".

Walking routes, coverage lists and campaign sheets all sort doors this way, so it lives on
its own rather than in any one of them. The order itself is the registry's
(`webapp.registry.address.natural_key`), the one the field app's `naturalCompare` follows by
shared vectors (tests/vectors/address.json): runs of ASCII digits compare as numbers. A copy
here took any Unicode digit, and `int()` refuses some of them: a room written "①" or "2²"
made every coverage page, route and campaign sheet of its cell a 500.
"""
from __future__ import annotations

from typing import Any

from webapp.registry.address import natural_key as _registry_order

NaturalKey = tuple[tuple[int, int | str], ...]


def natural_key(text: str | None) -> NaturalKey:
    return _registry_order(text or "")


def building_key(h: Any) -> tuple[str, str, str]:
    """A house's building: road, number and building name."""
    return (h.road, h.number, h.building or "")
