"""The district: generated once per scale and kept (bench/cache.py), copied into each run's
SQLite file or PostgreSQL database, and reused by every figure of the run.

Imports the Flask app (the migrations are Alembic via Flask-Migrate), so it is not a pure part.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, insert, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from bench import pgcopy
from bench.cache import CACHE, Cached, cached_district, working_copy
from config import Config
from webapp.base.dbsetup import configure_engine
from webapp.models import Cell, House, User, cell_coordinator
from webapp.registry import recording
from webapp.registry.demo import generate

recording.install()  # numbering and the change log, as in the app

PASSWORD = "bench-pw"
# The demo's users get this hash; one cheap round, as the tests do, since logins are not measured.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")


def app_config(url: str) -> Config:
    cfg = Config()
    cfg.SQLALCHEMY_DATABASE_URI = url  # type: ignore[attr-defined]
    cfg.SECRET_KEY = "bench-secret-bench-secret-bench-secret"  # type: ignore[attr-defined]
    # Many logins from one address while devices register: keep the throttle out of the way.
    cfg.LOGIN_MAX_FAILURES = 1000  # type: ignore[attr-defined]
    # Each repeat of a browser figure logs in on a new phone (a context of its own): the cap on
    # a login's live phones (2) refused the third, and figure 7 went unmeasured for a week.
    cfg.DEVICES_PER_USER = 1000  # type: ignore[attr-defined]
    return cfg


@dataclass
class District:
    backend: str
    url: str
    scale: float
    engine: Engine
    houses: int = 0
    cells: int = 0
    build_seconds: float = 0.0  # generating it (0 when an earlier run's build was reused)
    load_seconds: float = 0.0  # copying the kept build into this run's database
    from_cache: bool = False


def engine_for(url: str) -> Engine:
    engine = create_engine(url, pool_size=10) if url.startswith("postgresql") else create_engine(url)
    configure_engine(engine)
    return engine


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from webapp.app import create_app
    from webapp.extensions import db

    app = create_app(app_config(url))
    with app.app_context():
        upgrade(revision="heads")  # features add migration branches side by side
        db.engine.dispose()


def generate_into(url: str, scale: float, say: Callable[[str], None] = print) -> None:
    """Migrate and generate the demo district at this scale (minutes at scale 40)."""
    migrate(url)
    engine = engine_for(url)
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 15:  # a line every 15 s is enough to see it move
            last[0] = now
            say(f"  generating: {stage} {done:,}/{total:,}")

    try:
        with Session(engine) as session:
            generate(session, scale=scale, password_hash=PASSWORD_HASH, progress=progress)
            session.commit()
    finally:
        engine.dispose()


def pristine(scale: float, scratch: Path, say: Callable[[str], None] = print, cache: Path = CACHE) -> tuple[Path, Cached]:
    """This run's untouched copy of the kept build (built first if missing or stale), upgraded
    to the migration heads: the source of every backend's district for `scale`."""
    kept = cached_district(scale, lambda u: generate_into(u, scale, say), say, cache)
    path = scratch / f"pristine-scale{scale:g}.sqlite3"
    if not path.exists():
        migrate(working_copy(kept.path, path))
    return path, kept


def build(backend: str, url: str, scale: float, scratch: Path, say: Callable[[str], None] = print,
          cache: Path = CACHE) -> District:
    """This run's district: the pristine copy for `scale` copied into `url` (a SQLite file, or
    a PostgreSQL database, migrated, then filled by COPY)."""
    start = time.perf_counter()
    source, kept = pristine(scale, scratch, say, cache)
    if backend == "sqlite":
        working_copy(source, Path(url.removeprefix("sqlite:///")))
    else:
        migrate(url)
    engine = engine_for(url)
    if backend != "sqlite":
        pgcopy.fill(engine, source)
    district = District(backend, url, scale, engine, build_seconds=kept.seconds,
                        load_seconds=time.perf_counter() - start - kept.seconds, from_cache=not kept.built)
    with Session(engine) as session:
        district.houses = session.scalar(select(func.count()).select_from(House)) or 0
        district.cells = session.scalar(select(func.count()).select_from(Cell)) or 0
    return district


def cells_by_code(engine: Engine) -> list[tuple[uuid.UUID, int]]:
    """Every cell in code order with its live houses (neighbouring codes are neighbouring cells)."""
    with Session(engine) as session:
        counts = dict(session.execute(select(House.cell_id, func.count()).where(House.deleted_at.is_(None))
                                      .group_by(House.cell_id)).all())
        return [(cid, int(counts.get(cid, 0))) for cid in session.scalars(select(Cell.id).order_by(Cell.code))]


def make_coordinator(engine: Engine, username: str, cell_ids: list[uuid.UUID]) -> None:
    """A coordinator for exactly these cells (password PASSWORD)."""
    with Session(engine) as session:
        user = User(username=username, display_name=f"基准{username}", password_hash=PASSWORD_HASH,
                    role="coordinator")
        session.add(user)
        session.flush()
        session.execute(insert(cell_coordinator), [{"cell_id": c, "user_id": user.id} for c in cell_ids])
        session.commit()


def pick_cells(cells: list[tuple[uuid.UUID, int]], start: int, houses: int) -> tuple[list[uuid.UUID], int]:
    """Consecutive cells from `start` until they hold at least `houses` houses."""
    chosen: list[uuid.UUID] = []
    total = 0
    for cid, n in cells[start:] + cells[:start]:
        if total >= houses:
            break
        chosen.append(cid)
        total += n
    return chosen, total
