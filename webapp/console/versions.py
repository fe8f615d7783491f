"""Every record's history page (/persons/<id>/history, /houses/<id>/history,
/units/<id>/history) and the unit page. Who sees a record sees its history, values masked as
the privacy policy says (webapp/registry/versions.py masks them). Views are audited like the
record's page. Thin: authorise, ask webapp.registry.versions, render."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from flask import abort, g, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp import audit
from webapp.access import current_scope
from webapp.conflicts.display import FIELD_LABELS
from webapp.console import bp
from webapp.console.views import _clear_fields, _visible_person
from webapp.base.dbsetup import writes_on_get
from webapp.extensions import db
from webapp.models import Cell, House, Person, Unit, User
from webapp.registry import units, versions
from webapp.registry.versions import Version
from webapp.templating import label, local_dt

DOOR_LABELS = {
    "console": _l("console"), "phone": _l("phone"), "rescue": _l("a phone's exported file"),
    "import": _l("police extract import"), "merge": _l("merge of two records"),
    "conflict": _l("conflict resolution"), "cli": _l("command line"), "system": _l("system"),
    "baseline": _l("when history began"),
}
MORE_LABELS = {
    "sex": _l("Sex"), "birth_date": _l("Birth date"), "hukou_region": _l("Hukou region"),
    "hukou_road": _l("Hukou road"), "hukou_number": _l("Hukou number"), "hukou_building": _l("Hukou building"),
    "hukou_room": _l("Hukou room"), "deleted_at": _l("Deleted"), "purged_at": _l("Personal data erased"),
    "cell_manual": _l("Cell set by hand"), "claims_id_of": _l("Held for the centre (claims the number of)"),
    "permit_endorsed_by_id": _l("Endorsement recorded by"), "external_code": _l("Extract code"),
}
# Fields drawn from a vocabulary: shown by their label.
VOCABULARIES = {("person", "category"): "category", ("person", "sex"): "sex", ("house", "use"): "use",
                ("unit", "kind"): "unit_kind", ("person", "id_type"): "id_type", ("person", "phone_status"): "phone_status"}
# Fields naming another record: shown by its name or address, never its id.
REFERENCES = ("cell_id", "house_id", "employer_unit_id", "claims_id_of", "permit_endorsed_by_id")


def door_label(door: str) -> str:
    return str(DOOR_LABELS.get(door, door))


def field_name(name: str) -> str:
    return str(MORE_LABELS.get(name) or FIELD_LABELS.get(name) or name)


def value_text(record_type: str, name: str, value: Any, cells: dict[uuid.UUID, str]) -> str:
    """A version's value for the page (already masked where the role must not see it whole)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return local_dt(value)
    if isinstance(value, date):
        return value.isoformat()
    if (record_type, name) in VOCABULARIES:
        return label(str(value), VOCABULARIES[(record_type, name)])
    if name in REFERENCES:
        return cells.get(value, _("(not shown)"))
    if isinstance(value, list):
        return "; ".join(" ".join(str(v) for v in item.values() if v) if isinstance(item, dict) else str(item)
                         for item in value)
    return str(value)


def _cells(history: list[Version]) -> dict[Any, str]:
    """The records a history's references name, as words: a cell's code and name, a house's
    address, a unit's or a person's name, a user's display name."""
    ids = {v for h in history for c in h.changes for v in (c.old, c.new)
           if c.field in REFERENCES and v is not None}
    uuids = [i for i in ids if isinstance(i, uuid.UUID)]
    out: dict[Any, str] = {}
    if uuids:
        out |= {i: f"{code} {name}" for i, code, name in db.session.execute(
            select(Cell.id, Cell.code, Cell.name).where(Cell.id.in_(uuids)))}
        out |= {h.id: h.address for h in db.session.scalars(select(House).where(House.id.in_(uuids)))}
        out |= dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(uuids))).all())
        out |= {i: n or "" for i, n in db.session.execute(select(Person.id, Person.name).where(Person.id.in_(uuids)))}
    numbers = [i for i in ids if isinstance(i, int)]
    if numbers:
        out |= dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(numbers))).all())
    return out


def history_context(record_type: str, record_id: uuid.UUID) -> dict[str, Any]:
    history = versions.history(db.session, record_type, record_id, current_user.role)
    return {"history": history, "record_type": record_type, "cells": _cells(history), "door_label": door_label,
            "field_name": field_name, "value_text": value_text}


@bp.route("/persons/<uuid:person_id>/history")
@login_required
@writes_on_get
def person_history(person_id: uuid.UUID) -> Any:
    person = _visible_person(person_id)
    context = history_context("person", person.id)
    audit.record("view_person_history", "person", person.id, clear=_clear_fields(), versions=len(context["history"]))
    db.session.commit()
    g.no_store = True
    return render_template("console/versions.html", title=person.name or _("Person"),
                           back=("console.person", {"person_id": person.id}), **context)


def visible_unit(unit_id: uuid.UUID) -> Unit:
    """A unit the user may see: its house's cell in scope (a unit at no house: all-cells roles)."""
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    house = db.session.get(House, unit.house_id) if unit.house_id else None
    if not current_scope().covers_cell(house.cell_id if house else None):
        abort(404)
    return unit


@bp.route("/units/<uuid:unit_id>")
@login_required
@writes_on_get
def unit(unit_id: uuid.UUID) -> Any:
    unit_ = visible_unit(unit_id)
    staff = units.employees(db.session, current_scope(), unit_.id)
    # Its contact persons and the employees shown are personal data.
    audit.record("view_unit", "unit", unit_.id, persons=[str(p.id) for p in staff.visible])
    db.session.commit()
    g.no_store = True
    twins = [(u, current_scope().covers_cell(u.house.cell_id if u.house else None)) for u in units.twins(db.session, unit_)]
    return render_template("console/unit.html", unit=unit_, employees=staff, twins=twins)


@bp.route("/units/<uuid:unit_id>/history")
@login_required
@writes_on_get
def unit_history(unit_id: uuid.UUID) -> Any:
    unit_ = visible_unit(unit_id)
    context = history_context("unit", unit_.id)
    audit.record("view_unit_history", "unit", unit_.id, versions=len(context["history"]))
    db.session.commit()
    g.no_store = True
    return render_template("console/versions.html", title=unit_.name or _("Unit"),
                           back=("console.unit", {"unit_id": unit_.id}), **context)
