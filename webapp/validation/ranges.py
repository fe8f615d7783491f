"""The plausible range of each number a person types about a house or a visit: the console's
forms and the phones' pushes check the same bounds (a floor area of 1e308 m² is a typo)."""
from __future__ import annotations

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
