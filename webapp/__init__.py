"""Gridwalk web application.

`create_app` is imported lazily so that `sync/` and `geo/` can use `webapp.models` and
`webapp.validation` without importing Flask.
"""
from __future__ import annotations

from typing import Any


def create_app(config: Any = None) -> Any:
    from webapp.app import create_app as _create_app

    return _create_app(config)
