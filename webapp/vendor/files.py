"""The allow-list of npm files the browser may load, and their versioned URLs.

Only files listed here are served: node_modules also holds dev tools (axe-core), source
maps and package metadata that have no business on a public origin.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from config import BASE_DIR

NODE_MODULES = BASE_DIR / "node_modules"

# package -> (folder inside the package, files served from it)
ALLOWED: dict[str, tuple[str, frozenset[str]]] = {
    "leaflet": ("dist", frozenset({
        "leaflet.js", "leaflet.css",
        "images/layers.png", "images/layers-2x.png",
        "images/marker-icon.png", "images/marker-icon-2x.png", "images/marker-shadow.png",
    })),
    # The field app: IndexedDB wrapper (an ES module) and the QR decoder (loaded on demand).
    "idb": ("build", frozenset({"index.js"})),
    "jsqr": ("dist", frozenset({"jsQR.js"})),
}


@cache
def installed_version(package: str) -> str | None:
    """The version npm installed, or None when `npm ci` has not run (the URL then 404s)."""
    try:
        meta = json.loads((NODE_MODULES / package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = meta.get("version")
    return version if isinstance(version, str) else None


def resolve(package: str, version: str, name: str) -> Path | None:
    """The file behind /vendor/<package>/<version>/<name>, if it is allowed and installed."""
    entry = ALLOWED.get(package)
    if entry is None or name not in entry[1] or version != installed_version(package):
        return None
    path = NODE_MODULES / package / entry[0] / name
    return path if path.is_file() else None
