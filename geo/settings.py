"""The geo settings, as plain values: geo/ never reads Flask's config itself.

Callers with an app pass `GeoSettings.from_config(app.config)`; without one the defaults
come from `config.Config`, which reads the same environment variables at start-up.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


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
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = f.name.upper()
            value = cfg.get(key) if hasattr(cfg, "get") else getattr(cfg, key, None)
            if value is not None:
                values[f.name] = type(f.default)(value)
        return cls(**values)


def default_settings() -> GeoSettings:
    from config import Config  # plain module: reads the environment, imports no Flask

    return GeoSettings.from_config(Config)
