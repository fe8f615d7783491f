"""The plausible range of each number a person types about a house or a visit: the console's
forms and the phones' pushes check the same bounds (a floor area of 1e308 m² is a typo).
Likewise every day typed about a record (a move-in, a permit's dates, a visit)."""
from __future__ import annotations

from datetime import date

# Mainland China and its coastal waters, WGS-84 (a wider box than the country, not a border).
LON = (73.0, 136.0)
LAT = (3.0, 54.0)
AREA_M2 = (0.0, 100_000.0)
FLOOR = (-5, 150)

RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("house", "floor_area"): AREA_M2, ("house", "living_area"): AREA_M2, ("room", "living_area"): AREA_M2,
    ("house", "lon"): LON, ("house", "lat"): LAT, ("house", "floor"): FLOOR,
    ("visit", "lon"): LON, ("visit", "lat"): LAT, ("visit", "accuracy_m"): (0.0, 100_000.0),
}

# Any day a person types: outside it, a typo (9999 for "long-term", 0202 for 2020). A permit
# issued in 9999 also broke the permits rule, whose anniversaries passed the calendar's last
# year, and with it every rules run of the district (webapp/registry/rules/permit_due.py).
DAYS = (date(1900, 1, 1), date(2099, 12, 31))


def plausible_day(day: date) -> bool:
    return DAYS[0] <= day <= DAYS[1]


def days_problem(field: str) -> tuple[str, str]:
    """The message (zh, en) for a day outside DAYS."""
    low, high = (d.isoformat() for d in DAYS)
    return f"{field} 应在 {low} 到 {high} 之间", f"{field} must be from {low} to {high}"
