"""From a committee's raw counts to five scores, a weighted score and a grade (达标). Pure.

Every score runs 0–100:
- completeness: required fields filled, as a percentage;
- accuracy: 100 − penalty × rule violations per 100 records (floored at 0);
- timeliness: the mean of changes recorded on time (%) and houses visited recently (%);
- coverage: the mean of houses visited this cycle (%) and of those with the plate scanned (%);
- backlog: 100 − penalty × open tasks, open conflicts and reviews waiting too long per 100
  houses (floored at 0). Returned reviews are shown, not scored: a return is the review working.
The grade score is their weighted mean, rounded to one decimal; the grade is decided on
that rounded number, so the page never shows 90.0 beside a 良.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from webapp.models.enums import Grade
from webapp.registry.rules.settings import GRADE_DIMENSIONS, RuleSettings

# Raw counts a committee's grade is computed from (all summable, so totals are sums).
COUNTS = ("persons", "houses", "units", "records", "fields_required", "fields_filled", "violations",
          "changes", "late_changes", "houses_recent", "cov_houses", "visited", "visited_scanned",
          "open_tasks", "open_conflicts", "reviews_late", "reviews_returned")


def _pct(part: float, whole: float, empty: float) -> float:
    return 100.0 * part / whole if whole else empty


@dataclass
class Scored:
    counts: dict[str, int]
    rates: dict[str, float] = field(default_factory=dict)  # the percentages and per-100 figures
    scores: dict[str, float] = field(default_factory=dict)  # dimension → 0–100
    score: float | None = None
    grade: str | None = None  # enums.Grade; None when there is nothing to grade

    def to_dict(self) -> dict[str, Any]:
        return {"counts": self.counts, "rates": self.rates, "scores": self.scores, "score": self.score,
                "grade": self.grade}


def score(counts: dict[str, int], settings: RuleSettings) -> Scored:
    c = {k: int(counts.get(k, 0) or 0) for k in COUNTS}
    r = {
        # No record to fill in is not a fault, nor is no change to record: those count as 100 %.
        "completeness_pct": _pct(c["fields_filled"], c["fields_required"], 100.0),
        "violations_per_100": _pct(c["violations"], c["records"], 0.0),
        "timely_pct": _pct(c["changes"] - c["late_changes"], c["changes"], 100.0),
        "recent_visit_pct": _pct(c["houses_recent"], c["houses"], 0.0),
        "visited_pct": _pct(c["visited"], c["cov_houses"], 0.0),
        "scanned_pct": _pct(c["visited_scanned"], c["cov_houses"], 0.0),
        "backlog_per_100": _pct(c["open_tasks"] + c["open_conflicts"] + c["reviews_late"], c["houses"], 0.0),
    }
    s = {
        "completeness": r["completeness_pct"],
        "accuracy": max(0.0, 100.0 - settings.grade_accuracy_penalty * r["violations_per_100"]),
        "timeliness": (r["timely_pct"] + r["recent_visit_pct"]) / 2,
        "coverage": (r["visited_pct"] + r["scanned_pct"]) / 2,
        "backlog": max(0.0, 100.0 - settings.grade_backlog_penalty * r["backlog_per_100"]),
    }
    out = Scored(c, {k: round(v, 2) for k, v in r.items()}, {k: round(v, 1) for k, v in s.items()})
    if c["houses"] == 0 and c["cov_houses"] == 0:
        return out  # a committee without houses has nothing to grade
    weights = settings.weights()
    total = sum(weights[d] * s[d] for d in GRADE_DIMENSIONS) / sum(weights.values())
    out.score = round(total, 1)
    out.grade = grade_for(out.score, settings)
    return out


def grade_for(value: float, settings: RuleSettings) -> str:
    excellent, good, passing = settings.thresholds()
    if value >= excellent:
        return Grade.EXCELLENT.value
    if value >= good:
        return Grade.GOOD.value
    if value >= passing:
        return Grade.PASS.value
    return Grade.FAIL.value


def add(into: dict[str, int], counts: dict[str, int]) -> None:
    for k in COUNTS:
        into[k] = into.get(k, 0) + int(counts.get(k, 0) or 0)
