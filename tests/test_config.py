"""Configuration: production refuses unsafe settings; the factory honours the environment."""
from __future__ import annotations

import pytest

from config import Config, ProductionConfig, load_config


def test_production_refuses_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@localhost/x")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig()
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig()


def test_production_requires_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        ProductionConfig()


def test_production_refuses_demo_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    cfg = load_config("production")
    assert cfg.ALLOW_DEMO_DATA is False
    assert cfg.SESSION_COOKIE_SECURE is True
    assert cfg.SECRET_KEY == "x" * 40


def test_default_database_is_sqlite_under_instance() -> None:
    assert Config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert Config.SQLALCHEMY_DATABASE_URI.endswith("instance/gridwalk.sqlite3")


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(RuntimeError, match="GRIDWALK_ENV"):
        load_config("staging")


def test_seed_demo_refused_in_production_config(app, runner) -> None:  # type: ignore[no-untyped-def]
    app.config["ALLOW_DEMO_DATA"] = False
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "refused" in result.output
