"""Districts built once and kept between runs, under instance/bench/.

Generating the 200,000-house district takes over ten minutes here; the figures need a
pristine copy each run (they write into it). So each (generator version, scale) is generated
once into a SQLite file, kept, and copied for every run. The version is a hash of the demo
generator's source and BUILD: change either and the next run builds afresh and drops the
stale file. Migrations added since are not a reason to rebuild: each run's copy is upgraded
to the heads, as a deployed database would be (bench/dataset.py). PostgreSQL is filled from
that copy with COPY (bench/pgcopy.py) instead of generating a second time.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "instance" / "bench"
# What decides the district's rows: the demo generator; bump BUILD when how bench/dataset.py
# calls it changes.
SOURCES = ("webapp/registry/demo",)
BUILD = "1"


def generator_version() -> str:
    digest = hashlib.sha256(BUILD.encode())
    for source in SOURCES:
        path = ROOT / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Cached:
    path: Path
    built: bool  # False: an earlier run's file was reused
    seconds: float  # building it (built) or nothing (reused)


def _name(scale: float) -> str:
    return f"district-scale{scale:g}"


def cached_district(scale: float, build: Callable[[str], None], say: Callable[[str], None] = print,
                    cache: Path = CACHE) -> Cached:
    """The kept SQLite file for this scale, built with `build(url)` if missing or stale."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{_name(scale)}-{generator_version()}.sqlite3"
    if path.exists():
        return Cached(path, False, 0.0)
    for stale in cache.glob(f"{_name(scale)}-*.sqlite3*"):
        say(f"dropping {stale.name} (generator changed)")
        stale.unlink()
    partial = path.with_suffix(".partial")
    for leftover in cache.glob(f"{partial.name}*"):  # an interrupted build
        leftover.unlink()
    start = time.perf_counter()
    build(f"sqlite:///{partial}")
    with sqlite3.connect(partial) as conn:  # fold the WAL in, so the one file is the database
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    os.replace(partial, path)
    return Cached(path, True, time.perf_counter() - start)


def working_copy(cached: Path, target: Path) -> str:
    """A fresh copy for this run (the figures write into it); returns its URL."""
    shutil.copyfile(cached, target)
    return f"sqlite:///{target}"
