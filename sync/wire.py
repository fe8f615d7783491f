"""The wire format: which records travel, which fields a phone may write, how values look.

Values on the wire are JSON: UUIDs and dates as strings (dates `YYYY-MM-DD`, times ISO 8601
UTC with `Z`). Comparisons during merge happen in wire form, so a date typed on a phone and
the one in the database compare equal.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Table

from webapp.models import (
    Cell, Committee, House, HouseCode, HouseEvent, HouseFlag, Person, Residency, Review, Room, Task, Unit, Visit,
)
from webapp.models.base import Synced

# Never sent to phones: search helpers and server bookkeeping.
PRIVATE_COLUMNS = frozenset({"id_rev", "phone_rev", "purged_at", "client_ip_hash", "origin_key", "claims_id_of",
                             "hukou_key", "hukou_room_key", "address_key", "room_key"})
# Bookkeeping no phone reads: protocol 2 leaves it out of pulled rows (its order is in the
# cursor; the version is what a phone edits against). Protocol 1 still sends it.
PHONE_OMITS = frozenset({"seq", "changed_at", "changed_by_id"})


@dataclass(frozen=True)
class RecordType:
    name: str
    model: type[Synced]
    # Fields a phone may set; anything else in a mutation is refused.
    writable: frozenset[str]
    # Reference fields and the record type they point at (checked, and redirected by alias).
    refs: tuple[tuple[str, str], ...] = ()
    creatable: bool = True
    # Visits are facts about a moment: they are created, never edited.
    editable: bool = True

    @property
    def table(self) -> Table:
        # Synced is a mixin: __table__ comes with Base, which every synced model also subclasses.
        return self.model.__table__  # type: ignore[attr-defined]


RECORD_TYPES: dict[str, RecordType] = {t.name: t for t in (
    RecordType("house", House, frozenset({
        "cell_id", "road", "number", "building", "unit", "floor", "room", "lon", "lat", "use",
        "floor_area", "living_area", "note"}), refs=(("cell_id", "cell"),)),
    RecordType("house_code", HouseCode, frozenset({"code", "kind", "house_id"}),
               refs=(("house_id", "house"),), editable=False),
    RecordType("house_flag", HouseFlag, frozenset({"house_id", "kind", "note", "cleared_at"}),
               refs=(("house_id", "house"),)),
    RecordType("unit", Unit, frozenset({"name", "uscc", "house_id", "kind", "contacts"}),
               refs=(("house_id", "house"),)),
    # The structured hukou address (region from the GB/T 2260 list), a fixed line or why there
    # is no number, the permit's dates and its last endorsement (the server records who).
    RecordType("person", Person, frozenset({
        "name", "id_type", "id_number", "phone", "landline", "phone_status", "category", "hukou_region",
        "hukou_road", "hukou_number", "hukou_building", "hukou_room", "hukou_address", "permit_number",
        "permit_issued", "permit_expiry", "permit_endorsed_on", "note", "employer_unit_id"}),
        refs=(("employer_unit_id", "unit"),)),
    # Rooms recorded at the door (their kind and living area feed the 群租 rule).
    RecordType("room", Room, frozenset({"house_id", "name", "kind", "living_area"}), refs=(("house_id", "house"),)),
    RecordType("residency", Residency, frozenset({
        "person_id", "house_id", "room_id", "relation", "household_id", "start_date", "end_date",
        "end_reason"}), refs=(("person_id", "person"), ("house_id", "house"), ("room_id", "room"))),
    RecordType("visit", Visit, frozenset({
        "house_id", "visited_at", "outcome", "lat", "lon", "accuracy_m", "plate_scanned", "note"}),
        refs=(("house_id", "house"),), editable=False),
    # Tasks (待办) are made on the server; a phone closes them: status, what was found (in
    # words and as a result), when, and the visit that found it (at the task's house).
    RecordType("task", Task, frozenset({"status", "outcome", "result", "closed_at", "closed_visit_id"}),
               refs=(("house_id", "house"), ("closed_visit_id", "visit")), creatable=False),
    # Reviews (审核) are made on the server; a lead decides, the coordinator resubmits
    # (webapp/registry/review.py says who may move a review where).
    RecordType("review", Review, frozenset({"status", "reason"}), refs=(("house_id", "house"),), creatable=False),
)}

# Protocol 1 (the app before issue 20, still served for PROTOCOL_PREVIOUS_DAYS) names the task
# table by its first name, tip: its pushes say "tip" and are read as task; its pull pages,
# evictions, outcomes and conflict notices say "tip" again. Protocol 2 knows only "task".
PROTOCOL_1_NAMES: dict[str, str] = {"task": "tip"}
_FROM_PROTOCOL_1 = {old: new for new, old in PROTOCOL_1_NAMES.items()}


def wire_name(record_type: str, protocol: int) -> str:
    """The record type as a phone speaking `protocol` calls it."""
    return PROTOCOL_1_NAMES.get(record_type, record_type) if protocol < 2 else record_type


def read_name(name: str, protocol: int) -> str:
    """The record type a phone speaking `protocol` means by `name`."""
    return _FROM_PROTOCOL_1.get(name, name) if protocol < 2 else name


# Read-only on phones, but pulled.
PULLED_MODELS: tuple[type[Synced], ...] = (
    Committee, Cell, House, HouseCode, Room, HouseFlag, HouseEvent, Unit, Person, Residency, Visit, Task, Review,
)


def to_wire(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def row_to_wire(row: Any, columns: list[str]) -> dict[str, Any]:
    return {c: to_wire(getattr(row, c)) for c in columns}


def public_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if c.name not in PRIVATE_COLUMNS]
