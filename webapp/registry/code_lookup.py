"""What a scanned or typed house code points to, for the public plate page.

Our codes (plate, temporary) are validated with their check character first; a code that
fails it may still be an external code (another system's, stored verbatim), so those are
looked up as typed. Only the outcome and the house leave this module.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from webapp.models import Cell, House, HouseCode
from webapp.validation import FieldError, ValidationError, parse_house_code

# Longer than any code we store (HouseCode.code is 40): answered without a lookup.
MAX_CODE_LEN = 40


class Outcome(StrEnum):
    LIVE = "live"  # a current code of a house in the registry
    RETIRED = "retired"  # an old plate, replaced; says nothing about where the house went
    UNKNOWN = "unknown"  # well formed, but no house has it (or the house was removed)
    INVALID = "invalid"  # not a code: bad characters, wrong length, failed check
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    code: str | None = None  # normalised, only when well formed
    house: House | None = None  # only when LIVE
    error: FieldError | None = None  # why the code is INVALID


def look_up(session: Session, raw: str) -> Lookup:
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if len(text) > MAX_CODE_LEN:
        return Lookup(Outcome.TOO_LONG)
    try:
        code = parse_house_code(text)
    except ValidationError as error:
        # Only printable text can be an external code (and PostgreSQL refuses NUL in a query).
        if not text.isprintable():
            return Lookup(Outcome.INVALID, error=error.errors[0])
        external = _find(session, text, kind="external")
        if external is not None:
            return _resolved(external, text)
        return Lookup(Outcome.INVALID, error=error.errors[0])
    found = _find(session, code)
    if found is None:
        return Lookup(Outcome.UNKNOWN, code)
    return _resolved(found, code)


def _find(session: Session, code: str, kind: str | None = None) -> HouseCode | None:
    query = (
        select(HouseCode).where(HouseCode.code == code, HouseCode.deleted_at.is_(None))
        .options(selectinload(HouseCode.house).selectinload(House.cell).selectinload(Cell.committee))
    )
    if kind is not None:
        query = query.where(HouseCode.kind == kind)
    return session.scalar(query)


def _resolved(found: HouseCode, code: str) -> Lookup:
    if found.retired_at is not None:
        return Lookup(Outcome.RETIRED, code)
    if found.house.deleted_at is not None:
        return Lookup(Outcome.UNKNOWN, code)
    return Lookup(Outcome.LIVE, code, found.house)
