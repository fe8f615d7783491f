"""How a conflict's values look on the page: field names, vocabularies, masked numbers."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from sync.conflicts import KINDS
from sync.resolve import DELETE_FIELD, Case
from sync.validate import ENUM_FIELDS
from webapp.templating import lang, local_dt
from webapp.registry import privacy

FIELD_LABELS = {
    "cell_id": _l("Cell"), "road": _l("Road"), "number": _l("Number"), "building": _l("Building"),
    "unit": _l("Unit"), "floor": _l("Floor"), "room": _l("Room"), "lon": _l("Longitude"),
    "lat": _l("Latitude"), "use": _l("Use"), "floor_area": _l("Floor area (m²)"),
    "living_area": _l("Living area (m²)"), "note": _l("Note"), "code": _l("Code"), "kind": _l("Kind"),
    "house_id": _l("House"), "cleared_at": _l("Cleared at"), "name": _l("Name"),
    "uscc": _l("Unified social credit code"), "contacts": _l("Contacts"), "id_type": _l("ID type"),
    "id_number": _l("ID number"), "phone": _l("Mobile phone"), "category": _l("Category"),
    "hukou_address": _l("Hukou address"), "permit_number": _l("Residence permit number"),
    "permit_expiry": _l("Residence permit expiry"), "employer_unit_id": _l("Employer"),
    "person_id": _l("Person"), "room_id": _l("Room"), "relation": _l("Relation"),
    "household_id": _l("Household"), "start_date": _l("Moved in"), "end_date": _l("Moved out"),
    "end_reason": _l("Reason"), "visited_at": _l("Visited at"), "outcome": _l("Outcome"),
    "accuracy_m": _l("GPS accuracy (m)"), "plate_scanned": _l("Plate scanned"), "status": _l("Status"),
    "closed_at": _l("Closed at"), DELETE_FIELD: _l("Delete the record"),
    "landline": _l("Fixed-line phone"), "phone_status": _l("Without a number"), "hukou_region": _l("Hukou district"),
    "hukou_road": _l("Hukou road"), "hukou_number": _l("Hukou number (lane, 号)"), "hukou_building": _l("Hukou building"),
    "hukou_room": _l("Hukou room"), "permit_issued": _l("Residence permit issued on"),
    "permit_endorsed_on": _l("Endorsed on"), "sex": _l("Sex"), "birth_date": _l("Birth date"),
}
RECORD_LABELS = {
    "house": _l("House"), "house_code": _l("House code"), "house_flag": _l("House flag"), "unit": _l("Unit"),
    "room": _l("Room"),
    "person": _l("Person"), "residency": _l("Residency"), "visit": _l("Visit"), "task": _l("Task"),
}


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def record_label(record_type: str) -> str:
    return str(RECORD_LABELS.get(record_type, record_type))


def kind_label(kind: str) -> str:
    zh, en = KINDS.get(kind, (kind, kind))
    return zh if lang() == "zh" else en


def kind_choices() -> list[tuple[str, str]]:
    return [(k, kind_label(k)) for k in KINDS]


def shown(record_type: str, name: str, value: Any, role: str) -> str:
    """A wire value for people: labels for vocabularies, personal fields as the role may see
    them (webapp/registry/privacy.py)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    vocabulary = ENUM_FIELDS.get((record_type, name))
    if vocabulary is not None:
        try:
            return vocabulary(value).label(lang())
        except ValueError:
            return str(value)
    if (record_type, name) in privacy.POLICY:
        seen = privacy.seen(role, record_type, name, value)
        return "—" if seen is None else str(seen)
    if name in REFERENCES:
        return reference_text(REFERENCES[name], value)
    return str(value)


# A reference is shown as what it names (an address, a name), never as its id.
REFERENCES = {"house_id": "house", "cell_id": "cell", "person_id": "person", "room_id": "room",
              "employer_unit_id": "unit", "closed_visit_id": "visit", "household_id": "household"}


def reference_text(kind: str, value: Any) -> str:
    import uuid as _uuid

    from webapp.extensions import db
    from webapp.models import Cell, House, Person, Room, Unit, Visit

    try:
        rid = _uuid.UUID(str(value))
    except ValueError:
        return str(value)
    if kind == "household":
        return _("a household")
    model = {"house": House, "cell": Cell, "person": Person, "room": Room, "unit": Unit, "visit": Visit}[kind]
    row = db.session.get(model, rid)
    if row is None:
        return _("(not on record)")
    if isinstance(row, House):
        return row.address
    if isinstance(row, Cell):
        return f"{row.code} {row.name}"
    if isinstance(row, Visit):
        return local_dt(row.visited_at)
    return str(getattr(row, "name", "") or "—")


# What a resolution did to the record, in words.
RESOLUTIONS = {"update": ("已按决定更新", "updated"), "create": ("已新建记录", "created"),
               "delete": ("已删除记录", "deleted"), "restore": ("已恢复记录", "restored"),
               "discard": ("已放弃手机的修改", "phone's change discarded")}


def resolution_label(action: str) -> str:
    zh, en = RESOLUTIONS.get(action, ("已处理", "resolved"))
    return zh if lang() == "zh" else en


def target_text(case: Case) -> str:
    """The record a conflict is about, as what it names (an address, a name), not its id."""
    kind = case.rtype.name
    if kind in ("house", "person", "room", "unit", "visit"):
        return reference_text(kind, case.target_id) if not case.creating else "—"
    return ""


def record_links(case: Case) -> list[tuple[str, str]]:
    """Where the record lives in the console: its house and, for people, its person page."""
    links: list[tuple[str, str]] = []
    target = case.target
    kind = case.rtype.name
    if kind == "house" and target is not None:
        links.append((_("House"), url_for("console.house", house_id=target.id)))
    elif case.conflict.house_id is not None:
        links.append((_("House"), url_for("console.house", house_id=case.conflict.house_id)))
    person_id = target.id if kind == "person" and target is not None else getattr(target, "person_id", None)
    if person_id is not None:
        links.append((_("Person"), url_for("console.person", person_id=person_id)))
    other = case.conflict.detail.get("other")
    if case.conflict.kind in HELD_KINDS and other and target is not None:
        # The phone's record stands as typed; the registered one is the survivor of a merge
        # (the move-in), or the record's number or address is corrected instead.
        links.append((_("Registered record"), url_for(f"console.{kind}", **{f"{kind}_id": other})))
        links.append((_("Same one: merge into the registered record"), url_for(
            "conflicts.combine", record_type=kind, survivor=other, loser=str(target.id), conflict_id=str(case.conflict.id))))
    return links


# Cases a push opened without telling the phone (sync/moves.py hold_for_centre).
HELD_KINDS = frozenset({"identity_elsewhere", "address_elsewhere"})


def device_time(detail: dict[str, Any]) -> str:
    """The phone's own clock when the edit was made, in local time (for explanation only)."""
    raw = detail.get("device_time")
    if not raw:
        return ""
    try:
        return local_dt(datetime.fromisoformat(str(raw).replace("Z", "+00:00")))
    except ValueError:
        return str(raw)
