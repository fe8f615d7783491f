"""Privacy policy: which role sees which personal field in clear, masked or not at all.

The one place this is decided (PIPL art. 6 minimum necessary, art. 28 sensitive data). Every
door asks it: console pages and edit forms, search, exports and reports, the conflict queue,
the pull and the push's outcomes. Scope (`scope.py`) decides *which records* a role sees;
this module decides *how much of each record*.

Who sees what, and why:
- The centre reconciles the whole register: everything in clear.
- A coordinator collects the data at the door and must check the ID card and call back: the
  current residents of their own cells in clear (scope already limits them to those).
- Grid leads, committees and police check coverage, quality and lists: masked numbers. The
  masks are chosen so that together they do not rebuild a number: the ID keeps its first 3
  and last 4 characters, so the birth date shows only its year and the hukou region only its
  province (with day and county in clear, the 7 missing digits follow from the check char).
- Community reporters see no personal data at all.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from enum import StrEnum
from typing import Any

from webapp.models.enums import Role
from webapp.validation import mask_id, mask_phone


class Show(StrEnum):
    CLEAR = "clear"
    MASKED = "masked"
    HIDDEN = "hidden"


C, M, H = Show.CLEAR, Show.MASKED, Show.HIDDEN
_ROLES = (Role.CENTRE, Role.COORDINATOR, Role.GRID_LEAD, Role.COMMITTEE, Role.POLICE, Role.REPORTER)


def _row(centre: Show, coordinator: Show, grid_lead: Show, committee: Show, police: Show) -> dict[str, Show]:
    return dict(zip(_ROLES, (centre, coordinator, grid_lead, committee, police, H), strict=True))


# (record type, field) → role → how it is shown. A field not listed is not personal: every
# role that sees the record sees it (names, categories, dates of residence, addresses of houses).
POLICY: dict[tuple[str, str], dict[str, Show]] = {
    ("person", "id_number"): _row(C, C, M, M, M),
    ("person", "phone"): _row(C, C, M, M, M),
    # A fixed line is a phone like any other: area code and last four digits for masked roles.
    ("person", "landline"): _row(C, C, M, M, M),
    ("person", "birth_date"): _row(C, C, M, M, M),
    ("person", "hukou_region"): _row(C, C, M, M, M),
    ("person", "permit_number"): _row(C, C, M, M, M),
    **{("person", f): _row(C, C, H, H, H)
       for f in ("hukou_address", "hukou_road", "hukou_number", "hukou_building", "hukou_room")},
    # A record held for the centre because its ID number is someone else's names that person:
    # to anyone else it would say whose the number is (the push answers it as nobody's).
    ("person", "claims_id_of"): _row(C, H, H, H, H),
    # Notes are typed at the door about a person; the police keep their own records.
    ("person", "note"): _row(C, C, C, C, H),
    # Residents leave a phone on a report to be called back by whoever handles it.
    ("task", "contact_phone"): _row(C, C, C, C, M),
    ("unit", "contacts"): _row(C, C, C, C, H),
}
RECORD_FIELDS: dict[str, frozenset[str]] = {
    record: frozenset(f for r, f in POLICY if r == record) for record, _ in POLICY}


def _year(value: Any) -> str:
    text = value.isoformat() if isinstance(value, date) else str(value or "")
    return text[:4]


MASKS: dict[str, Callable[[Any], str]] = {
    "id_number": lambda v: mask_id(str(v or "")),
    "permit_number": lambda v: mask_id(str(v or "")),
    "phone": lambda v: mask_phone(str(v or "")),
    "landline": lambda v: mask_phone(str(v or "")),
    "contact_phone": lambda v: mask_phone(str(v or "")),
    "birth_date": _year,
    "hukou_region": lambda v: str(v or "")[:2],
}


def show(role: str, record: str, field: str) -> Show:
    rule = POLICY.get((record, field))
    if rule is None:
        return H if role == Role.REPORTER else C
    return rule.get(role, H)


def clear(role: str, record: str, field: str) -> bool:
    return show(role, record, field) is C


@cache  # the policy is fixed at import; asked for every page of a pull and every push answer
def sees_all_on_phones(role: str, record: str) -> bool:
    """Whether the role sees in clear every field of this record type that phones keep
    (nothing to project before a row goes to its phone)."""
    kept_off = NOT_ON_PHONES.get(record, frozenset())
    return all(show(role, record, f) is C for f in RECORD_FIELDS.get(record, ()) if f not in kept_off)


@cache  # asked for every mutation of a push
def unclear(role: str, record: str) -> frozenset[str]:
    """The fields of this record type the role does not see in clear. What the role sends in
    them must never be compared with what is stored in a way its answer shows: "the same as
    stored" would tell it the value (sync/merge.py, sync/moves.py, renumber.py)."""
    return frozenset(f for f in RECORD_FIELDS.get(record, ()) if show(role, record, f) is not C)


def mask(field: str, value: Any) -> str | None:
    if value in (None, ""):
        return None
    return MASKS[field](value)


def seen(role: str, record: str, field: str, value: Any) -> Any:
    """The value as this role may see it: itself, its mask, or None."""
    how = show(role, record, field)
    if how is C or value in (None, ""):
        return value if how is not H else None
    return mask(field, value) if how is M else None


def wire(role: str, record: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A record for a phone or an API answer: a masked field travels as `<field>_masked` and
    its own key is absent (so a mask is never mistaken for a value); a hidden one is absent."""
    out = dict(row)
    for name in RECORD_FIELDS.get(record, ()):
        how = show(role, record, name)
        if how is C or name not in out:
            continue
        value = out.pop(name)
        if how is M and value not in (None, ""):
            out[f"{name}_masked"] = mask(name, value)
    return out


# Minimum data on phones (PIPL art. 6): what no screen of the field app shows stays on the
# server whatever the role (a reporter's call-back number, a unit's contact persons).
# Whose number a held registration uses (`claims_id_of`) is the centre's: pulled rows never
# carry it (sync/wire.py PRIVATE_COLUMNS), and no phone screen would show it.
NOT_ON_PHONES: dict[str, frozenset[str]] = {"task": frozenset({"contact_phone"}), "unit": frozenset({"contacts"}),
                                            "person": frozenset({"claims_id_of"})}


def phone_rows(role: str, record: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for a phone's pull: as the role may see them, less what phones never keep. A row
    is copied only when something of it must go (coordinators' and the centre's pages: never)."""
    if not sees_all_on_phones(role, record):
        rows = [wire(role, record, r) for r in rows]
    dropped = NOT_ON_PHONES.get(record)
    if not dropped or not any(dropped & r.keys() for r in rows):
        return rows
    return [{k: v for k, v in r.items() if k not in dropped} for r in rows]


def values(role: str, record: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A record's values for a table or an export: masks in place, hidden fields empty."""
    return {k: (seen(role, record, k, v) if (record, k) in POLICY else v) for k, v in row.items()}
