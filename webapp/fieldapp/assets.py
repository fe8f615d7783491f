"""What the service worker precaches, and the cache version built from those files' hashes.

Computed per request from the files on disk (a few dozen small files): a deploy that changes
any of them changes the version, so phones fetch a new worker and keep the old shell until the
user accepts the update.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from config import BASE_DIR
from webapp.vendor.files import ALLOWED, installed_version

PWA_DIR = BASE_DIR / "static" / "pwa"
SHELL_TEMPLATE = BASE_DIR / "webapp" / "templates" / "fieldapp" / "shell.html"
WORKER = Path(__file__).with_name("worker.js")
SUFFIXES = frozenset({".js", ".css", ".png", ".json"})
# npm files the app loads (idb at start; jsQR when the camera opens and Leaflet when a map
# opens, lazily: all precached, so they work offline and cost the start nothing).
VENDOR = (("idb", "index.js"), ("jsqr", "jsQR.js"), ("leaflet", "leaflet.js"), ("leaflet", "leaflet.css"))
# Routes whose answers belong to the shell (rendered by Flask, hashed through their sources). The
# two GB/T 2260 lists are precached but loaded only when a form opens (static/pwa/regions.js).
SHELL_ROUTES = ("/app/", "/app/manifest.webmanifest", "/app/area-codes.json", "/app/regions.json")


def static_files() -> list[Path]:
    """Files under static/pwa that the app loads."""
    return sorted(p for p in PWA_DIR.rglob("*") if p.is_file() and p.suffix in SUFFIXES)


def vendor_urls() -> list[tuple[str, Path]]:
    out = []
    for package, name in VENDOR:
        folder = ALLOWED[package][0]
        out.append((f"/vendor/{package}/{installed_version(package) or 'missing'}/{name}",
                    BASE_DIR / "node_modules" / package / folder / name))
    return out


def vendor_url(package: str, name: str | None = None) -> str:
    """The versioned URL of a vendored file (the package's only one when `name` is None)."""
    urls = [(p, n, u) for (p, n), (u, _f) in zip(VENDOR, vendor_urls(), strict=True) if p == package]
    return next(u for p, n, u in urls if name is None or n == name)


def precache() -> list[tuple[str, Path | None]]:
    files: list[tuple[str, Path | None]] = [(r, None) for r in SHELL_ROUTES]
    files += [("/static/pwa/" + p.relative_to(PWA_DIR).as_posix(), p) for p in static_files()]
    return files + list(vendor_urls())


def version(release: str = "") -> str:
    """A short hash over every precached file, the shell's sources, the worker and `release`."""
    digest = hashlib.sha256(release.encode())
    for url, path in precache():
        digest.update(url.encode())
        if path is not None and path.is_file():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    for source in (SHELL_TEMPLATE, WORKER, Path(__file__).with_name("views.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]
