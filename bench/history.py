"""Run times kept between runs (instance/bench/runs.json), so BENCHMARKS.md can show both a
first run, which generates the districts, and a run that reuses them."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cache import CACHE
from bench.report import Report


def record(report: Report, scale: float, path: Path = CACHE / "runs.json") -> list[dict[str, Any]]:
    """Append this run; return the latest run of each kind (generated / reused) at this scale."""
    runs: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []
    runs.append({"at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "scale": scale,
                 "minutes": round(report.seconds / 60, 1), "command": report.command,
                 "generated": not all(report.from_cache.values()), "steps": report.steps})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(runs, indent=1, ensure_ascii=False))
    latest: dict[bool, dict[str, Any]] = {}
    for run in runs:
        if run["scale"] == scale:
            latest[run["generated"]] = run
    return [latest[k] for k in (True, False) if k in latest]
