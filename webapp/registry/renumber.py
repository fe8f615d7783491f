"""A person's ID number corrected in the console to one another live person holds.

Whether a number is registered must be answered only about persons the user may see:
otherwise the edit form tells a coordinator whether any guessed number lives anywhere in
the district (it did: 409 for a number held outside their cells, "saved" for a free one).
So, as a push does (docs/sync.md, "Someone registered elsewhere"; sync/apply.py
`_renumbered`): a holder the user sees refuses the number, one they do not see makes the
record stand as typed, held for the centre (`claims_id_of`), with an `identity_elsewhere`
case naming both records. The user is told "saved" either way. A role that sees ID numbers
only masked is never refused: every holder is one it does not see in clear.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Conflict, Person
from webapp.registry import privacy
from webapp.registry.scope import Scope


@dataclass(frozen=True)
class Renumbering:
    refused: bool  # the number is held by a person the user sees
    claims: uuid.UUID | None  # else the registry's holder, the record to claim for the centre


def check(session: Session, scope: Scope, person: Person, number: str) -> Renumbering:
    """What giving `person` this number means for this user (nothing when it is free)."""
    holders = list(session.scalars(
        select(Person.id).where(Person.id_number == number, Person.id != person.id, Person.deleted_at.is_(None),
                                Person.claims_id_of.is_(None))))
    if not holders:
        return Renumbering(False, None)
    if "id_number" in privacy.unclear(scope.role, "person"):
        # A role that sees numbers masked learns nothing either: "taken" would confirm a
        # guessed number of a resident it sees masked.
        return Renumbering(False, holders[0])
    seen = session.scalar(select(Person.id).where(Person.id.in_(holders), scope.person_clause()).limit(1))
    return Renumbering(True, None) if seen is not None else Renumbering(False, holders[0])


def case_for_centre(session: Session, person: Person, other: uuid.UUID, number: str, by_user_id: int) -> Conflict:
    """The centre's case: the same person (merge into `other`) or a mistyped number. As a
    push's held case, it names no house, cell or committee: only the centre sees it."""
    case = Conflict(kind="identity_elsewhere", record_type="person", record_id=person.id, user_id=by_user_id,
                    device_values={"id_number": number},
                    detail={"other": str(other), "op": "update", "door": "console"})
    session.add(case)
    return case
