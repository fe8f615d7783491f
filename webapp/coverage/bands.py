"""Coverage bands: the one place that maps a ratio to a colour, for map, legend and table.

Colours are dark enough for 3:1 non-text contrast on the white map (WCAG 1.4.11) and carry
a text label everywhere they appear, so colour is never the only cue (WCAG 1.4.1).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Band:
    key: str
    label: str  # lazy: rendered in the user's language
    fill: str
    stroke: str


BANDS: tuple[Band, ...] = (
    Band("none", _l("No houses"), "#6b7280", "#374151"),
    Band("low", _l("Below 50%"), "#c62828", "#7f1d1d"),
    Band("mid", _l("50–80%"), "#b45309", "#78350f"),
    Band("high", _l("80% and above"), "#2e7d32", "#14532d"),
)
BY_KEY = {b.key: b for b in BANDS}

# House dots on the map, by status in the cycle.
DOTS: dict[str, tuple[str, str]] = {
    "visited": ("#1b5e20", _l("Visited")),
    "unverified": ("#6a1b9a", _l("Visited, not verified")),
    "unvisited": ("#b71c1c", _l("Not visited")),
}

LOW, HIGH = 0.5, 0.8


def band_for(houses: int, ratio: float) -> Band:
    if houses == 0:
        return BY_KEY["none"]
    if ratio < LOW:
        return BY_KEY["low"]
    return BY_KEY["mid"] if ratio < HIGH else BY_KEY["high"]
