"""BENCHMARKS.md: one table row per figure and backend, measured side by side with its limit.

`python -m bench.report` writes BENCHMARKS.md again from the last run's figures (kept in
instance/bench/last-run.json) with the current bench/findings.md, without measuring again.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.stats import Sample


def show(sample: Sample, unit: str, digits: int = 2) -> str:
    lo, hi = sample.spread
    return f"{sample.median:,.{digits}f} {unit} ({lo:,.{digits}f}–{hi:,.{digits}f}, n={len(sample.values)})"


@dataclass
class Row:
    figure: str
    what: str
    backend: str
    measured: str
    limit: str = "—"
    ratio: str = "—"
    target: str = "—"
    met: bool | None = None  # None: a figure with no target, reported only

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "reported"}[self.met]


@dataclass
class Report:
    machine: dict[str, str]
    command: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    from_cache: dict[str, bool] = field(default_factory=dict)  # backend → district reused
    steps: dict[str, float] = field(default_factory=dict)  # step → seconds
    history: list[dict[str, Any]] = field(default_factory=list)  # bench/history.py
    sections: list[tuple[str, str]] = field(default_factory=list)  # (title, markdown) kept by hand

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def markdown(self) -> str:
        out = ["# Benchmarks", "",
               "Written by `make bench` (bench/, issue 7). Each figure is the median of repeated runs "
               "(spread = min–max, n = runs); both sides of a ratio were measured alternately in the "
               "same run, on a shared, noisy 2-core machine: read ratios, not absolute numbers.", "",
               "## Reproduce", "", f"    {self.command}", "",
               f"Total run time: {self.seconds / 60:.1f} min ({self._origin()}).", ""]
        if self.history:
            out += ["Latest full runs at this scale (instance/bench/runs.json):", "",
                    "| when | districts | total | command |", "|---|---|---|---|"]
            out += [f"| {h['at']} | {'generated, then kept' if h['generated'] else 'kept from an earlier run'} | "
                    f"{h['minutes']} min | `{h['command']}` |" for h in self.history]
            out += [""]
        out += ["## Machine", ""]
        out += [f"- {k}: {v}" for k, v in self.machine.items()]
        out += ["", "## Figures", "",
                "| # | figure | backend | measured | limit (same run) | ratio | target | |",
                "|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            out.append(f"| {r.figure} | {r.what} | {r.backend} | {r.measured} | {r.limit} | {r.ratio} | "
                       f"{r.target} | {r.verdict} |")
        for title, body in self.sections:
            out += ["", f"## {title}", "", body.strip()]
        if self.notes:
            out += ["", "## Steps of this run", ""] + [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"

    def _origin(self) -> str:
        if not self.from_cache:
            return "no district"
        if all(self.from_cache.values()):
            return "districts kept from an earlier run"
        return "districts generated in this run: a first run"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Report:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["rows"] = [Row(**r) for r in data["rows"]]
        data["sections"] = [tuple(x) for x in data["sections"]]
        return cls(**data)


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.report [OUT]`: BENCHMARKS.md again from the last full run's figures and
    bench/findings.md as it is now (no measuring)."""
    import argparse

    from bench.run import FINDINGS, LAST_RUN, ROOT

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out", nargs="?", default=str(ROOT / "BENCHMARKS.md"), help="where to write the report")
    args = parser.parse_args(argv)
    report = Report.load(LAST_RUN)
    report.sections = [s for s in report.sections if s[0] != FINDINGS_TITLE]
    if FINDINGS.exists():
        report.sections.append((FINDINGS_TITLE, FINDINGS.read_text(encoding="utf-8")))
    rewrite(Path(args.out), report)


def rewrite(path: Path, report: Report) -> None:
    """`path` from `report`, keeping the sections the later figures' own commands wrote there
    (bench.wire, bench.fieldapp_map…): they are not in the main run's figures, and rewriting the
    findings once dropped figures 8 to 12 until they were measured again."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = [(m.group(0), f"<!-- {m.group(1)} -->", f"<!-- /{m.group(1)} -->")
            for m in re.finditer(r"<!-- (bench\.\w+) -->.*?<!-- /\1 -->", old, flags=re.S)]
    path.write_text(report.markdown(), encoding="utf-8")
    for text, begin, end in kept:
        write_section(path, text, begin, end)


FINDINGS_TITLE = "Misses profiled and fixed"


def write_section(path: Path, text: str, begin: str, end: str) -> None:
    """Replace a figure's own section (between its `begin` and `end` markers) of BENCHMARKS.md,
    or put it before the hand-kept findings, or at the end: the figures written by their own
    commands (bench.wire, bench.fieldapp_map, bench.fieldapp_search) share the file."""
    doc = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    heading = f"\n## {FINDINGS_TITLE}"
    if begin in doc and end in doc:
        doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _m: text, doc, flags=re.S)
    elif heading in doc:
        doc = doc.replace(heading, "\n" + text + "\n" + heading, 1)
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(doc, encoding="utf-8")

if __name__ == "__main__":
    main()
