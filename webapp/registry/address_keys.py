"""The address keys the 人户分离 rule compares in SQL: a person's hukou address and a house's
address as `webapp.registry.address.place_keys` reads them (the phone's rule too), stored
beside the parts (`person.hukou_key`, `hukou_room_key`; `house.address_key`, `room_key`).

Why a hook at commit and not at each write path: persons and houses are written by console
forms, pushes (COPY and bulk UPDATE), imports, merges, conflict resolutions, the demo and the
purge; like the change log (webapp/registry/changelog.py), every one of them leaves the rows
it wrote unnumbered (`seq` NULL) until the commit, so just before it the rows this
transaction wrote are read back and their keys set where they changed. Installed by an
explicit call, with the numbering and the change log: `webapp.registry.recording.install()`.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, event, or_, select, update
from sqlalchemy.orm import Session

from webapp.registry.sequence import unstamped_tables
from webapp.models import House, Person
from webapp.registry.address import place_keys

# (model, columns read as the address parts road/number/building/room, the two key columns)
_SOURCES: tuple[tuple[Any, tuple[str, str, str, str], tuple[str, str]], ...] = (
    (Person, ("hukou_road", "hukou_number", "hukou_building", "hukou_room"), ("hukou_key", "hukou_room_key")),
    (House, ("road", "number", "building", "room"), ("address_key", "room_key")),
)


def stamp(session: Session) -> None:
    """Set the keys of the persons and houses this transaction wrote (before they are numbered)."""
    session.flush()
    written = {t.name for t in unstamped_tables(session)}
    for model, parts, (key, room_key) in _SOURCES:
        table = model.__table__
        if table.name not in written:
            continue
        found = session.execute(_unstamped(table, parts, key, room_key)).all()
        changed = []
        for row in found:
            want = place_keys(dict(zip(("road", "number", "building", "room"), row[1:5], strict=True)))
            if want != (row[5], row[6]):
                changed.append({"_id": row[0], "_key": want[0], "_room": want[1]})
        if changed:
            # changed_at set to itself: a key is bookkeeping, not an edit (no onupdate time).
            session.connection().execute(
                update(table).where(table.c.id == bindparam("_id"))
                .values({key: bindparam("_key"), room_key: bindparam("_room"), "changed_at": table.c.changed_at}),
                changed)


@cache
def _unstamped(table: Any, parts: tuple[str, ...], key: str, room_key: str) -> Any:
    """The rows this transaction wrote whose keys may change, built once. A row with no part
    and no key has none to set (`place_keys` of nothing is (None, None)): a push's new persons
    mostly give no hukou address, and reading them back was 3 % of a 500-mutation push."""
    some = or_(*(table.c[p].is_not(None) for p in parts), table.c[key].is_not(None), table.c[room_key].is_not(None))
    return select(table.c.id, *(table.c[p] for p in parts), table.c[key], table.c[room_key]).where(
        table.c.seq.is_(None), some)


def _before_commit(session: Session) -> None:
    stamp(session)


def install() -> None:
    """Keep the keys at every commit of every session; runs before the change log's copy."""
    if not event.contains(Session, "before_commit", _before_commit):
        event.listen(Session, "before_commit", _before_commit, insert=True)


def installed() -> bool:
    return event.contains(Session, "before_commit", _before_commit)
