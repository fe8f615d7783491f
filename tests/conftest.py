"""Fixtures: every database test runs on SQLite and on a real PostgreSQL server.

The backend is in each test's id (`test_x[sqlite]`, `test_x[postgresql]`). The schema is
built once per backend by the committed Alembic migrations; each test then starts from
empty tables.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from config import TestConfig
from webapp.registry import recording
from tests.pg import pg_cluster
from webapp.models import audit_triggers
from webapp.base.dbsetup import configure_engine, reads_only
from webapp.models import Base

recording.install()  # as in the app (which also names each change's door)

BACKENDS = [b for b in os.environ.get("GRIDWALK_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with pg_cluster() as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database for one backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_url")
    _migrate(url)
    return url


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    from webapp.app import create_app

    app = create_app(_config_for(url))
    with app.app_context():
        # "heads": features may add migration branches side by side.
        upgrade(revision="heads")
        from webapp.extensions import db

        db.engine.dispose()


def _config_for(url: str, **extra: object) -> TestConfig:
    cfg = TestConfig()
    cfg.SQLALCHEMY_DATABASE_URI = url
    for key, value in extra.items():
        setattr(cfg, key, value)
    return cfg


def _empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            # The audit log refuses deletes by trigger: lift it only to empty the test database.
            for stmt in audit_triggers.DROP["sqlite"]:
                conn.execute(text(stmt))
            # users and committee reference each other: check keys at commit, when all is gone.
            conn.execute(text("PRAGMA defer_foreign_keys = ON"))
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            for stmt in audit_triggers.SQLITE_TRIGGERS:
                conn.execute(text(stmt))


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url)
    configure_engine(eng)
    _empty_tables(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A plain SQLAlchemy session for services that know nothing of Flask.

    It begins DEFERRED on SQLite so that a test holding it open never blocks the app's
    writers; call `db_session.rollback()` before reading what a request wrote (a SQLite
    read transaction keeps its snapshot).
    """
    with reads_only(), Session(engine) as session:
        yield session


@pytest.fixture
def app(database_url: str, engine: Engine) -> Iterator[object]:
    """The app, with no context pushed: a pushed app context would be reused by every test
    request (and its `g` with it), which hides bugs. Tests read the database through
    `db_session`, a separate session on the same database."""
    from webapp.app import create_app
    from webapp.extensions import db

    application = create_app(_config_for(database_url))
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


def valid_id(first17: str) -> str:
    from webapp.validation import check_char_gb11643

    return first17 + check_char_gb11643(first17)


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path, follow_redirects=True)  # a reporter's "/" leads to /community
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username: str, password: str = "pw") -> object:  # type: ignore[no-untyped-def]
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def area(db_session: Session):  # type: ignore[no-untyped-def]
    """Two committees: A (cells A1, A2) and B (cell B1), a house without a cell, a person in
    each house, and one user of every role (password "pw")."""
    from types import SimpleNamespace

    from tests import factories as f

    s = db_session
    com_a, com_b = f.committee(s, name="甲居委"), f.committee(s, name="乙居委")
    lead = f.user(s, "lead", "grid_lead")
    a1 = f.cell(s, com_a, grid_lead_id=lead.id)
    a2 = f.cell(s, com_a, grid_lead_id=lead.id)
    b1 = f.cell(s, com_b)
    coord = f.user(s, "coord", "coordinator")
    a1.coordinators.append(coord)
    users = {
        "coordinator": coord, "grid_lead": lead,
        "committee": f.user(s, "comm", "committee", committee_id=com_a.id),
        "centre": f.user(s, "centre", "centre"), "police": f.user(s, "police", "police"),
    }
    houses = {"A1": f.house(s, a1, code="A1CODE0001"), "A2": f.house(s, a2),
              "B1": f.house(s, b1), "none": f.house(s, None)}
    ids = {"A1": "11010519491231002X", "A2": "440524188001010014",
           "B1": valid_id("31011719900101123"), "none": valid_id("31011719850505234")}
    persons = {}
    for key, house_ in houses.items():
        persons[key] = f.person(s, name=f"王{key}", id_number=ids[key], phone="13812345678")
        f.residency(s, persons[key], house_)
    s.commit()
    return SimpleNamespace(cells={"A1": a1, "A2": a2, "B1": b1}, users=users, houses=houses,
                           persons=persons, committees={"A": com_a, "B": com_b})


@pytest.fixture
def placed(area, db_session):  # type: ignore[no-untyped-def]
    """The area's cells at fixed places: the factories' squares march east with every cell any
    test made, and a long run put them past the longitudes a house may have."""
    from tests import factories as f

    for i, cell in enumerate(area.cells.values()):
        cell.boundary = f._square(121.40 + i * 0.01, 31.20)
    db_session.commit()
    return area


def inside(cell) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A point well inside a cell (the factories' cells are squares 0.002° wide)."""
    lon, lat = cell.boundary["coordinates"][0][0]
    return f"{lon + 0.001:.6f}", f"{lat + 0.001:.6f}"


def logout(client) -> None:  # type: ignore[no-untyped-def]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
