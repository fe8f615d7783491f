"""Change recording: numbering every committed change (`sequence`), keeping every version
of persons, houses and units (`changelog`), and the address keys 人户分离 compares
(`address_keys`, set before the change log copies the rows).

All three are hooks on SQLAlchemy's `Session` class, and all are installed by this one call,
explicitly, by whoever opens sessions: the app factory (which also covers the CLI), the
scripts in bench/ and scripts/, and the tests. It used to be a side effect of importing
`sync.sequence`; a script that did not happen to import it wrote rows that no pull sent.
"""
from __future__ import annotations

from webapp.registry import address_keys, changelog, sequence


def install(resolver: changelog.Resolver | None = None) -> None:
    """Idempotent. `resolver` names the door of changes whose session did not (the app's:
    the request's page, or the command)."""
    sequence.install()
    changelog.install(resolver)
    address_keys.install()  # inserted first among the commit hooks: keys before the copy


def installed() -> bool:
    return sequence.installed() and changelog.installed() and address_keys.installed()
