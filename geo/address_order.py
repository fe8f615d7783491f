"""The one natural address order: "2" < "10", "301" < "1201", "3A" < "12".

Walking routes, coverage lists and campaign sheets all sort doors this way, so it lives on
its own rather than in any one of them.
"""
from __future__ import annotations

import re
from typing import Any

_DIGITS = re.compile(r"(\d+)")
NaturalKey = tuple[tuple[int, int, str], ...]


def natural_key(text: str | None) -> NaturalKey:
    """Digits compare as numbers, the rest as text: "2" < "10", "301" < "1201", "3A" < "12"."""
    if not text:
        return ()
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in _DIGITS.split(text) if part)


def building_key(h: Any) -> tuple[str, str, str]:
    """A house's building: road, number and building name."""
    return (h.road, h.number, h.building or "")
