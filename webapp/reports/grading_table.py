"""How grades are laid out: the five scores, the figures behind them (each with the drill-down
that lists its records), and the export table."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.oversight.grading import GradeRow

DIMENSIONS: tuple[tuple[str, Any], ...] = (
    ("completeness", _l("Completeness")),
    ("accuracy", _l("Accuracy")),
    ("timeliness", _l("Timeliness")),
    ("coverage", _l("Coverage")),
    ("backlog", _l("Open work")),
)

# (dimension, what, how it is shown: a count key, or a rate key with its unit; drill metric)
FIGURES: tuple[tuple[str, Any, str, str | None], ...] = (
    ("completeness", _l("Required fields filled"), "rate:completeness_pct:%", "incomplete"),
    ("completeness", _l("Records (persons, houses, units)"), "count:records", None),
    ("accuracy", _l("Rule violations"), "count:violations", "violations"),
    ("accuracy", _l("Violations per 100 records"), "rate:violations_per_100:", "violations"),
    ("timeliness", _l("Moves in the cycle"), "count:changes", "changes"),
    ("timeliness", _l("Recorded late"), "count:late_changes", "late"),
    ("timeliness", _l("Recorded on time"), "rate:timely_pct:%", "late"),
    ("timeliness", _l("Houses visited recently"), "rate:recent_visit_pct:%", "stale"),
    ("coverage", _l("Houses visited this cycle"), "rate:visited_pct:%", "unvisited"),
    ("coverage", _l("Visited with the plate scanned"), "rate:scanned_pct:%", "unscanned"),
    ("backlog", _l("Open tasks"), "count:open_tasks", "tasks"),
    ("backlog", _l("Open conflicts"), "count:open_conflicts", "conflicts"),
    ("backlog", _l("Reviews waiting over 7 days"), "count:reviews_late", "reviews"),
    ("backlog", _l("Reviews returned, awaiting the coordinator"), "count:reviews_returned", "reviews"),
    ("backlog", _l("Open items per 100 houses"), "rate:backlog_per_100:", None),
)


def value(row: GradeRow, spec: str) -> int | float:
    kind, key, *_unit = spec.split(":")
    if kind == "count":
        return int(row.scored.counts.get(key, 0))
    return round(float(row.scored.rates.get(key, 0.0)), 1)


def figure(row: GradeRow, spec: str) -> str:
    """As shown on the page: a count, or a rate with its unit."""
    unit = spec.split(":")[2] if spec.startswith("rate:") else ""
    v = value(row, spec)
    return f"{v:.1f}{unit}" if isinstance(v, float) else str(v)


def grade_table(items: list[GradeRow], grade_label: Callable[[str | None], str]) -> tuple[list[str], list[list[Any]]]:
    head = [_("Committee"), _("Code"), _("Grade"), _("Score"), *(str(label) for _k, label in DIMENSIONS),
            *(f"{label}{' (%)' if spec.endswith(':%') else ''}" for _d, label, spec, _m in FIGURES)]
    out = []
    for r in items:
        out.append([r.name, r.code, grade_label(r.grade), r.score if r.score is not None else "",
                    *(r.scored.scores.get(k, "") for k, _l2 in DIMENSIONS),
                    *(value(r, spec) for _d, _lab, spec, _m in FIGURES)])
    return head, out
