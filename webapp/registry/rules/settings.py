"""The rule and grading settings, as plain values: the rules never read Flask's config.

Callers with an app pass `RuleSettings.from_config(app.config)`; without one the defaults
come from `config.Config`, which reads the same environment variables at start-up.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webapp.base import plain_settings

GRADE_DIMENSIONS = ("completeness", "accuracy", "timeliness", "coverage", "backlog")


@dataclass(frozen=True)
class RuleSettings:
    room_max_persons: int = 2
    min_living_area_per_person_m2: float = 5.0
    landlord_register_min_rooms: int = 10
    landlord_register_min_occupants: int = 15
    permit_expiry_warn_days: int = 30
    permit_endorse_window_days: int = 30
    permit_validity_years: int = 3
    hukou_match_level: str = "building"
    phone_required_from_age: int = 16
    timely_record_days: int = 7
    visit_max_age_days: int = 90
    grade_weights: str = "completeness:25,accuracy:25,timeliness:20,coverage:20,backlog:10"
    grade_accuracy_penalty: float = 10.0
    grade_backlog_penalty: float = 10.0
    grade_thresholds: str = "90,80,60"

    def __post_init__(self) -> None:
        # Refuse a bad value at start-up rather than grade every committee wrongly.
        if self.hukou_match_level not in ("building", "house"):
            raise ValueError(f"HUKOU_MATCH_LEVEL must be 'building' or 'house', not {self.hukou_match_level!r}")
        self.weights()
        self.thresholds()

    @classmethod
    def from_config(cls, cfg: Any) -> RuleSettings:
        """From a mapping (app.config) or an object with attributes (the Config class)."""
        return plain_settings.from_config(cls, cfg)

    def weights(self) -> dict[str, float]:
        """GRADE_WEIGHTS as {dimension: weight}; a dimension left out weighs 0."""
        out = dict.fromkeys(GRADE_DIMENSIONS, 0.0)
        for part in self.grade_weights.split(","):
            name, _, value = part.partition(":")
            if name.strip() not in out:
                raise ValueError(f"GRADE_WEIGHTS: unknown dimension {name.strip()!r} (known: {GRADE_DIMENSIONS})")
            out[name.strip()] = float(value)
        if sum(out.values()) <= 0:
            raise ValueError("GRADE_WEIGHTS must give some dimension a positive weight")
        return out

    def thresholds(self) -> tuple[float, float, float]:
        """Lowest scores for 优, 良, 合格 (falling)."""
        parts = tuple(float(p) for p in self.grade_thresholds.split(","))
        if len(parts) != 3 or not parts[0] >= parts[1] >= parts[2]:
            raise ValueError("GRADE_THRESHOLDS must be three falling scores, e.g. 90,80,60")
        return parts  # type: ignore[return-value]


def default_settings() -> RuleSettings:
    return plain_settings.from_defaults(RuleSettings)
