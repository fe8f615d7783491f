"""The geo settings, as plain values: geo/ never reads Flask's config itself.

Callers with an app pass `GeoSettings.from_config(app.config)`; without one the defaults
come from `config.Config`, which reads the same environment variables at start-up.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webapp.base import plain_settings


@dataclass(frozen=True)
class GeoSettings:
    collection_cycle: str = "month"
    visit_gps_margin_m: float = 50.0
    walking_speed_kmh: float = 6.0
    walking_same_building_m: float = 30.0
    cell_max_area_km2: float = 5.0
    cell_overlap_tolerance_m2: float = 1.0

    @classmethod
    def from_config(cls, cfg: Any) -> GeoSettings:
        """From a mapping (app.config) or an object with attributes (the Config class)."""
        return plain_settings.from_config(cls, cfg)


def default_settings() -> GeoSettings:
    return plain_settings.from_defaults(GeoSettings)
