"""Change recording: numbering every committed change (`sequence`) and keeping every version
of persons, houses and units (`changelog`).

Both are hooks on SQLAlchemy's `Session` class, and both are installed by this one call,
explicitly, by whoever opens sessions: the app factory (which also covers the CLI), the
scripts in bench/ and scripts/, and the tests. It used to be a side effect of importing
`sync.sequence`; a script that did not happen to import it wrote rows that no pull sent.
"""
from __future__ import annotations

from webapp.registry import changelog, sequence


def install(resolver: changelog.Resolver | None = None) -> None:
    """Idempotent. `resolver` names the door of changes whose session did not (the app's:
    the request's page, or the command)."""
    sequence.install()
    changelog.install(resolver)


def installed() -> bool:
    return sequence.installed() and changelog.installed()
