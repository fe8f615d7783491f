"""Settings as plain frozen dataclasses, read from Flask's config or `config.Config`.

The services (geo/, the rules and grading) never read Flask's config themselves: a caller
with an app passes `app.config`, one without gets the defaults of `config.Config`, which
reads the same environment variables at start-up. One loader for every settings class.
No Flask here.
"""
from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def from_config(cls: type[T], cfg: Any) -> T:
    """`cls` from a mapping (app.config) or an object with attributes (the Config class):
    each field from its upper-case key, converted to its default's type; absent keys keep
    the default."""
    values: dict[str, Any] = {}
    for f in fields(cls):
        key = f.name.upper()
        value = cfg.get(key) if hasattr(cfg, "get") else getattr(cfg, key, None)
        if value is not None:
            convert: type[Any] = type(f.default)  # every settings field has a default (not MISSING)
            values[f.name] = convert(value)
    return cls(**values)


def from_defaults(cls: type[T]) -> T:
    """`cls` as `config.Config` sets it (the environment at start-up)."""
    from config import Config  # plain module: reads the environment, imports no Flask

    return from_config(cls, Config)


def setting(name: str) -> Any:
    """One setting as `config.Config` reads it at start-up (for plain modules without an app)."""
    from config import Config  # plain module: reads the environment, imports no Flask

    return getattr(Config, name)
