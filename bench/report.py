"""BENCHMARKS.md: one table row per figure and backend, measured side by side with its limit."""
from __future__ import annotations

from dataclasses import dataclass, field

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

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def markdown(self) -> str:
        out = ["# Benchmarks", "",
               "Written by `make bench` (bench/, issue 7). Each figure is the median of repeated runs "
               "(spread = min–max, n = runs); both sides of a ratio were measured alternately in the "
               "same run, on a shared, noisy 2-core machine: read ratios, not absolute numbers.", "",
               "## Reproduce", "", f"    {self.command}", "",
               f"Total run time: {self.seconds / 60:.1f} min.", "",
               "## Machine", ""]
        out += [f"- {k}: {v}" for k, v in self.machine.items()]
        out += ["", "## Figures", "",
                "| # | figure | backend | measured | limit (same run) | ratio | target | |",
                "|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            out.append(f"| {r.figure} | {r.what} | {r.backend} | {r.measured} | {r.limit} | {r.ratio} | "
                       f"{r.target} | {r.verdict} |")
        if self.notes:
            out += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"
