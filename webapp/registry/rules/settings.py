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
    group_rent_area_basis: str = "house"
    landlord_register_min_rooms: int = 10
    landlord_register_min_occupants: int = 15
    permit_expiry_warn_days: int = 30
    permit_endorse_window_days: int = 30
    permit_validity_years: int = 3
    hukou_match_level: str = "address"
    home_region: str = "310117"
    phone_required_from_age: int = 16
    timely_record_days: int = 7
    visit_max_age_days: int = 90
    grade_weights: str = "completeness:25,accuracy:25,timeliness:20,coverage:20,backlog:10"
    grade_accuracy_penalty: float = 10.0
    grade_backlog_penalty: float = 10.0
    grade_thresholds: str = "90,80,60"

    def __post_init__(self) -> None:
        # Refuse a bad value at start-up rather than grade every committee wrongly.
        if self.hukou_match_level not in ("address", "building"):
            raise ValueError(f"HUKOU_MATCH_LEVEL must be 'address' or 'building', not {self.hukou_match_level!r}")
        if self.group_rent_area_basis not in ("house", "room"):
            raise ValueError(f"GROUP_RENT_AREA_BASIS must be 'house' or 'room', not {self.group_rent_area_basis!r}")
        if not (len(self.home_region) == 6 and self.home_region.isdigit()):
            raise ValueError(f"HOME_REGION must be a 6-digit GB/T 2260 code, not {self.home_region!r}")
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
        return parts


# What each setting a rule reads means, in words (the reports page shows them with their values;
# the setting's own name is for the centre, who sets it).
SETTING_WORDS: dict[str, tuple[str, str]] = {
    "room_max_persons": ("每间出租房间最多居住人数（同一户除外）", "Most persons in a let room, unless one household"),
    "min_living_area_per_person_m2": ("人均居住面积下限（平方米）", "Least living area per person (m²)"),
    "group_rent_area_basis": ("人均面积按整套还是按房间计", "Living area counted per dwelling or per room"),
    "landlord_register_min_rooms": ("出租房间数达到此数须建立登记簿", "Rooms let from which a register is required"),
    "landlord_register_min_occupants": ("承租人数达到此数须建立登记簿", "Occupants from which a register is required"),
    "permit_expiry_warn_days": ("居住证到期前提醒天数", "Days before a permit's expiry it is listed"),
    "permit_endorse_window_days": ("年度签注提前办理天数", "Days before each anniversary the endorsement is due"),
    "permit_validity_years": ("居住证有效年限", "Years a residence permit is valid"),
    "hukou_match_level": ("人户分离比对到哪一级", "How far the hukou address is compared"),
    "home_region": ("本街道所在区县", "The subdistrict's district"),
    "phone_required_from_age": ("须登记联系电话的起始年龄", "Age from which a phone is expected"),
}
# How a setting's value reads where it is a word, not a number.
VALUE_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "group_rent_area_basis": {"house": ("按整套", "per dwelling"), "room": ("按房间", "per room")},
    "hukou_match_level": {"address": ("比对到室号", "down to the room"), "building": ("比对到楼栋", "down to the building")},
}


def setting_value(settings: RuleSettings, name: str, lang: str = "zh") -> str:
    value = getattr(settings, name)
    words = VALUE_WORDS.get(name, {}).get(str(value))
    if words:
        return words[0] if lang.startswith("zh") else words[1]
    if name == "home_region":
        from webapp.validation import area_full_name

        return area_full_name(str(value)) or str(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def default_settings() -> RuleSettings:
    return plain_settings.from_defaults(RuleSettings)
