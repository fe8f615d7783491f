"""The coverage figures, in the order and with the headings the table and exports use."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

# Attribute names shared by geo.coverage's CellCoverage and its committee totals.
NUMBERS: tuple[tuple[str, Any], ...] = (
    ("houses", _l("Houses")),
    ("visited", _l("Visited")),
    ("visited_scanned", _l("Plate scanned")),
    ("unverified", _l("Not verified")),
    ("occupied", _l("Occupied")),
    ("persons", _l("Persons")),
    ("new", _l("New")),
    ("changed", _l("Changed")),
    ("departed", _l("Departed")),
    ("open_tasks", _l("Open tasks")),
    ("open_conflicts", _l("Open conflicts")),
)
NUMBER_KEYS = tuple(key for key, _label in NUMBERS)


def numbers_of(row: Any) -> dict[str, int]:
    return {key: int(getattr(row, key) or 0) for key in NUMBER_KEYS}


def ratio_of(row: Any) -> float:
    """geo.coverage's ratio where the row has one; else visited share of houses (0 without
    houses: such a cell has its own band)."""
    given = getattr(row, "ratio", None)
    if given is not None:
        return float(given)
    houses = int(getattr(row, "houses", 0) or 0)
    return (int(getattr(row, "visited", 0) or 0) / houses) if houses else 0.0


def percent(ratio: float) -> str:
    return f"{ratio * 100:.0f}%"
