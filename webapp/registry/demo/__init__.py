"""Demo data: a deterministic, realistic subdistrict modelled on 方松街道 (Songjiang, Shanghai).

`generate()` fills an empty database with committees, grid cells that tile the area, houses
in 小区 buildings, shops and dormitories, their plate codes, people of every category with
valid ID numbers, residencies, units with valid credit codes, users and recent visits.

Everything comes from one `random.Random(seed)` and the fixed REFERENCE_DATE, so the same
seed gives the same rows (UUIDs included) on every machine. Rows are built as dicts and
written with Core executemany in batches, because ORM objects one by one are ~20× slower at
the district scale (scale 40: 200k+ houses). The caller commits.

Each stage is a mixin over one shared `_State` (state.py), combined in generator.py: `areas`
(with `staff`), `houses`, `units`, `people` (with `identities`), `visits`; `writer` inserts
the rows, `records`, `grid`, `vocabulary` and `reference` hold what the stages draw on.
"""
from __future__ import annotations

from webapp.registry.demo.generator import DemoSummary, generate
from webapp.registry.demo.reference import (
    BATCH,
    BLOCK,
    CELL_SIZE,
    CENTRE,
    HOUSES_AT_SCALE_1,
    JITTER,
    REFERENCE_DATE,
    REFERENCE_TIME,
    SONGJIANG,
    SONGJIANG_COUNTY,
)
from webapp.registry.demo.writer import Progress

__all__ = [
    "BATCH", "BLOCK", "CELL_SIZE", "CENTRE", "HOUSES_AT_SCALE_1", "JITTER", "REFERENCE_DATE",
    "REFERENCE_TIME", "SONGJIANG", "SONGJIANG_COUNTY", "DemoSummary", "Progress", "generate",
]
