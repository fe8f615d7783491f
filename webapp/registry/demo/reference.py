"""The demo's fixed frame: its "today", where it lies, and the sizes it is scaled from."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# "Today" for the demo: ages, permit expiries and visit times are relative to it.
REFERENCE_DATE = date(2026, 11, 26)
REFERENCE_TIME = datetime(2026, 11, 26, 4, 0, tzinfo=timezone.utc)  # noon in Shanghai
_SHANGHAI = timezone(timedelta(hours=8))

# Scale 1 covers lon 121.21–121.25, lat 31.01–31.05 (about 方松街道); larger scales grow
# the area around the same centre with cells of the same size.
CENTRE = (121.23, 31.03)
CELL_SIZE = (0.005, 0.005)
BLOCK = (4, 2)  # cells per committee: columns × rows
# Internal vertices move by up to this share of a cell side: cells stay convex quadrilaterals
# (3 × 0.15·√2 < √2/2 keeps every corner on its side of the neighbours' diagonal).
JITTER = 0.15
HOUSES_AT_SCALE_1 = 5600
BATCH = 5000

SONGJIANG = "310117"
SONGJIANG_COUNTY = "310227"  # before 1998; an ID number keeps its area code for life
