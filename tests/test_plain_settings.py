"""One loader for the settings classes (geo, rules): config keys, types, defaults."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from geo.settings import GeoSettings
from geo.settings import default_settings as geo_defaults
from webapp.registry.rules.settings import RuleSettings
from webapp.registry.rules.settings import default_settings as rule_defaults


@pytest.mark.parametrize("cls", [GeoSettings, RuleSettings])
def test_absent_keys_keep_the_defaults(cls) -> None:  # type: ignore[no-untyped-def]
    assert cls.from_config({}) == cls() == cls.from_config(SimpleNamespace())


def test_values_from_a_mapping_take_the_defaults_types() -> None:
    geo = GeoSettings.from_config({"VISIT_GPS_MARGIN_M": "80", "COLLECTION_CYCLE": "quarter", "OTHER": 1})
    assert geo.visit_gps_margin_m == 80.0 and isinstance(geo.visit_gps_margin_m, float)
    assert geo.collection_cycle == "quarter"
    rules = RuleSettings.from_config({"ROOM_MAX_PERSONS": "3", "GRADE_ACCURACY_PENALTY": 2})
    assert rules.room_max_persons == 3 and isinstance(rules.room_max_persons, int)
    assert rules.grade_accuracy_penalty == 2.0 and isinstance(rules.grade_accuracy_penalty, float)


def test_values_from_an_object_and_checked() -> None:
    assert RuleSettings.from_config(SimpleNamespace(TIMELY_RECORD_DAYS=3)).timely_record_days == 3
    with pytest.raises(ValueError):
        RuleSettings.from_config({"GRADE_THRESHOLDS": "60,80,90"})  # the class still checks its values


def test_defaults_come_from_config() -> None:
    from config import Config

    assert geo_defaults() == GeoSettings.from_config(Config)
    assert rule_defaults() == RuleSettings.from_config(Config)
