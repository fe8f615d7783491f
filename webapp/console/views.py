"""The console: search, house and person pages, correction forms. Thin: parse, authorise,
call the registry services, render."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from geo.assign import cell_at
from config import secret_keys
from webapp import audit
from webapp.access import current_scope, require_cell, requires
from webapp.console import bp
from webapp.console.forms import EndorsementForm, HouseForm, PersonForm
from webapp.base import sealed_query
from webapp.base.dbsetup import writes_on_get
from webapp.base.timeutil import utcnow
from webapp.extensions import db
from webapp.models import Cell, House, Person, Residency, Task, Unit, Visit
from webapp.models.enums import TaskStatus
from webapp.registry import endorsements, privacy, renumber
from webapp.registry.changes import apply_changes
from webapp.registry.house_history import HistoryError, ensure_alive
from webapp.registry.review import reviews_of
from webapp.registry.address import natural_key
from webapp.validation import mask_numbers
from webapp.registry.search import query_of
from webapp.registry.search import search as run_search
from webapp.registry.tasks import visible_tasks
from webapp.templating import lang

HOUSE_FIELDS = ("road", "number", "building", "unit", "floor", "room", "use", "floor_area",
                "living_area", "lon", "lat", "note")
CLOSED_TASKS_SHOWN = 10


def _blank_to_none(value: Any) -> Any:
    return value.strip() or None if isinstance(value, str) else value


def _visible_house(house_id: uuid.UUID) -> House:
    house = db.get_or_404(House, house_id, description=_("No such house."))
    require_cell(house.cell_id)
    return house


def _visible_person(person_id: uuid.UUID) -> Person:
    visible = db.session.scalar(
        select(Person).where(Person.id == person_id, current_scope().person_clause())
        .options(selectinload(Person.residencies).selectinload(Residency.house))
    )
    if visible is None:
        abort(404)
    return visible


def _stale(form_version: str | None, record: Any) -> bool:
    return str(record.version) != (form_version or "")


@bp.route("/")
@login_required
def home() -> Any:
    scope = current_scope()
    if not scope.may("view") and scope.may("report"):
        # A community reporter sees no cells: their work is on the community page.
        return redirect(url_for("community.home"))
    cells = db.session.scalars(
        select(Cell).where(scope.cell_clause(), Cell.deleted_at.is_(None)).order_by(Cell.code)
        .options(selectinload(Cell.committee))
    ).all()
    house_counts = dict(db.session.execute(
        select(House.cell_id, func.count()).where(scope.house_clause(), House.deleted_at.is_(None))
        .group_by(House.cell_id)
    ).all())
    # Persons living there, and their households (住户: family and lodgers without one count alone).
    living = (select(House.cell_id, func.count(Residency.id),
                     func.count(func.distinct(func.coalesce(Residency.household_id, Residency.person_id))))
              .join(Residency, Residency.house_id == House.id)
              .where(scope.house_clause(), Residency.end_date.is_(None), Residency.deleted_at.is_(None))
              .group_by(House.cell_id))
    counts = {cell_id: (persons, households) for cell_id, persons, households in db.session.execute(living)}
    return render_template("console/home.html", cells=cells, house_counts=house_counts,
                           residents={k: v[0] for k, v in counts.items()},
                           households={k: v[1] for k, v in counts.items()}, **_todo_context(scope))


def _todo_context(scope: Any) -> dict[str, Any]:
    """The home's to-do panel (console/_todo.html): open work, and late daily jobs for the centre."""
    from webapp.oversight import jobs
    from webapp.oversight.todo import todo
    from webapp.base.timeutil import local_today, utcnow

    now = utcnow()
    late = jobs.late(db.session, now) if scope.may("admin") else []
    return {"todo": todo(db.session, current_user, scope, local_today(), now), "late_jobs": late}


@bp.route("/search", methods=["GET", "POST"])
@login_required
@writes_on_get
def search() -> Any:
    # The console's box posts, so an ID or phone number typed in it stays out of the address
    # (the browser's history, the next page's referrer, every log on the way), and the answer
    # is a 303 to a GET carrying the query sealed to this user (webapp/base/sealed_query.py):
    # Back and reload repeat that GET instead of asking to send the form again. A GET's plain
    # query is still read (a link, a bookmark by name).
    cfg = current_app.config
    keys = secret_keys(cfg)
    if request.method == "POST":
        typed = query_of(request.form.get("q", ""))
        sealed = {"s": sealed_query.seal(keys, current_user.id, typed)} if typed else {}
        return redirect(url_for("console.search", **sealed), 303)
    q = request.args.get("q", "")
    if "s" in request.args:
        ttl = int(current_app.permanent_session_lifetime.total_seconds())
        opened = sealed_query.open_sealed(keys, current_user.id, request.args["s"], ttl)
        if opened is None:
            flash(_("This search has expired or was made in another account: type it again."), "error")
        q = opened or ""
    result = run_search(db.session, current_scope(), q, cfg["SEARCH_PAGE_SIZE"])
    if result.query:
        # Who looked for whom, and whom they were shown (PIPL art. 56); numbers typed are masked.
        audit.record("search", "person", None, q=mask_numbers(result.query), read_as=result.read_as,
                     persons=[str(p.id) for p in result.persons], houses=len(result.houses))
        db.session.commit()
    g.no_store = True
    return render_template("console/search.html", result=result, search_box=q)


@bp.route("/cells/<uuid:cell_id>")
@login_required
def cell(cell_id: uuid.UUID) -> Any:
    require_cell(cell_id)
    cell_ = db.get_or_404(Cell, cell_id)
    # In natural address order, as the phone lists them (101室 before 1001室).
    houses = sorted(db.session.scalars(
        select(House).where(House.cell_id == cell_id, House.deleted_at.is_(None))
        .options(selectinload(House.codes))
    ).all(), key=lambda h: natural_key(h.address))
    occupants = dict(db.session.execute(
        select(Residency.house_id, func.count()).join(House, House.id == Residency.house_id)
        .where(House.cell_id == cell_id, Residency.end_date.is_(None), Residency.deleted_at.is_(None))
        .group_by(Residency.house_id)
    ).all())
    return render_template("console/cell.html", cell=cell_, houses=houses, occupants=occupants)


@bp.route("/houses/<uuid:house_id>")
@login_required
@writes_on_get
def house(house_id: uuid.UUID) -> Any:
    house_ = _visible_house(house_id)
    residencies = db.session.scalars(
        select(Residency).where(Residency.house_id == house_id, Residency.deleted_at.is_(None))
        .options(selectinload(Residency.person), selectinload(Residency.room))
        .order_by(Residency.end_date.is_not(None), Residency.start_date.desc())
    ).all()
    # Former residents are the house's history: name and dates, a link only to whom the
    # role may still open (someone who moved within its cells).
    openable = set(db.session.scalars(select(Person.id).where(
        Person.id.in_({r.person_id for r in residencies}), current_scope().person_clause())))
    audit.record("view_house", "house", house_.id,
                 persons=[str(r.person_id) for r in residencies if r.end_date is None])
    db.session.commit()
    g.no_store = True
    visits = db.session.scalars(
        select(Visit).where(Visit.house_id == house_id, Visit.deleted_at.is_(None))
        .order_by(Visit.visited_at.desc()).limit(20).options(selectinload(Visit.user))
    ).all()
    # Tasks through the tasks service, so the page shows what the task queue would show;
    # closed ones only counted, with the latest few behind a disclosure.
    house_tasks = visible_tasks(current_scope(), status=None).where(Task.house_id == house_id)
    open_tasks = db.session.scalars(house_tasks.where(Task.status == TaskStatus.OPEN)).all()
    closed = house_tasks.where(Task.status != TaskStatus.OPEN)
    closed_count = db.session.scalar(select(func.count()).select_from(closed.order_by(None).subquery()))
    closed_tasks = db.session.scalars(closed.limit(CLOSED_TASKS_SHOWN)).all()
    from webapp.reports.residence import residence_context  # the rules' verdict on this house

    units = db.session.scalars(select(Unit).where(Unit.house_id == house_id, Unit.deleted_at.is_(None))
                               .order_by(Unit.name)).all()
    return render_template("console/house.html", house=house_, residencies=residencies, visits=visits, openable=openable, units=units,
                           reviews=reviews_of(db.session, [r.id for r in residencies]), open_tasks=open_tasks, closed_tasks=closed_tasks, closed_count=closed_count,
                           **residence_context(house_))


@bp.route("/houses/<uuid:house_id>/edit", methods=["GET", "POST"])
@requires("edit")
def edit_house(house_id: uuid.UUID) -> Any:
    house_ = _visible_house(house_id)
    try:  # a demolished or split house is history: editing it would bring it back as a duplicate
        ensure_alive(db.session, house_)
    except HistoryError as error:
        abort(409, description=error.zh if lang() == "zh" else error.en)
    form = HouseForm(obj=house_)
    if request.method == "GET":
        form.version.data = str(house_.version)
    if form.validate_on_submit():
        if _stale(form.version.data, house_):
            flash(_("Someone else changed this house meanwhile; review their version and try again."), "error")
            return render_template("console/house_edit.html", form=form, house=house_), 409
        changes = {name: _blank_to_none(getattr(form, name).data) for name in HOUSE_FIELDS}
        foreign = _foreign_cell(house_, changes["lon"], changes["lat"])
        if foreign is not None:
            form.lon.errors = [*form.lon.errors, _(
                "These coordinates lie in a grid cell outside yours (%(cell)s): the next placement by "
                "location would move the house there. Check them, or ask the centre to move the house.",
                cell=foreign.code)]
            return render_template("console/house_edit.html", form=form, house=house_), 422
        diff = apply_changes(house_, changes, current_user.id)
        if diff:
            audit.record("edit_house", "house", house_.id, fields=sorted(diff))
            db.session.commit()
            flash(_("Saved."), "ok")
        return redirect(url_for("console.house", house_id=house_.id))
    status = 422 if request.method == "POST" else 200
    return render_template("console/house_edit.html", form=form, house=house_), status


def _foreign_cell(house_: House, lon: float | None, lat: float | None) -> Cell | None:
    """The cell outside the user's scope that new coordinates would place the house in at the
    next `flask cells assign` (geo/assign.py), taking it out of its committee's hands; None
    when they are unchanged, in one of the user's cells, or in no cell (the house then keeps
    its cell). The centre covers every cell."""
    scope = current_scope()
    if scope.cell_ids is None or lon is None or lat is None or (lon, lat) == (house_.lon, house_.lat):
        return None
    target = cell_at(db.session, lon, lat, house_.cell_id)
    if target is None or scope.covers_cell(target):
        return None
    return db.session.get(Cell, target)


@bp.route("/persons/<uuid:person_id>")
@login_required
@writes_on_get
def person(person_id: uuid.UUID) -> Any:
    person_ = _visible_person(person_id)
    # Every view of a person's record is audited (PIPL art. 56), with what the role saw in clear.
    audit.record("view_person", "person", person_.id, clear=_clear_fields())
    db.session.commit()
    g.no_store = True
    return _person_view(person_)


def _person_view(person_: Person, form: EndorsementForm | None = None, status: int = 200) -> Any:
    from webapp.registry.rules.permit_due import permit_due
    from webapp.reports.common import rule_settings
    from webapp.base.timeutil import local_today

    cfg = rule_settings()
    due = permit_due(today=local_today(), expiry=person_.permit_expiry, issued=person_.permit_issued,
                     endorsed_on=person_.permit_endorsed_on, warn=cfg.permit_expiry_warn_days,
                     window=cfg.permit_endorse_window_days, validity=cfg.permit_validity_years)
    employer = db.session.get(Unit, person_.employer_unit_id) if person_.employer_unit_id else None
    return render_template("console/person.html", person=person_, permit_due=due, employer=employer,
                           endorsements=endorsements.archive(db.session, person_.id),
                           endorsement_form=form or EndorsementForm(formdata=None, endorsed_on=local_today()),
                           reviews=reviews_of(db.session, [r.id for r in person_.residencies])), status


@bp.route("/persons/<uuid:person_id>/endorsement", methods=["POST"])
@requires("edit")
def record_endorsement(person_id: uuid.UUID) -> Any:
    """The yearly endorsement (签注) of the person's residence permit, done: it leaves the due list."""
    person_ = _visible_person(person_id)
    form = EndorsementForm()
    if not form.validate_on_submit() or person_.permit_expiry is None:
        if person_.permit_expiry is None:
            form.endorsed_on.errors = [*form.endorsed_on.errors, _("Record the residence permit first.")]
        g.no_store = True
        return _person_view(person_, form, 422)
    if endorsements.record(person_, form.endorsed_on.data, current_user.id):
        audit.record("record_endorsement", "person", person_.id, on=form.endorsed_on.data.isoformat())
        db.session.commit()
    flash(_("Endorsement recorded."), "ok")
    return redirect(url_for("console.person", person_id=person_.id, _anchor="permit"))


# The form's fields the privacy policy governs: a role that may not read one in clear gets it
# empty (its mask as a hint) and keeps the stored value by leaving it empty.
GUARDED = ("id_number", "phone", "landline", "hukou_region", "hukou_road", "hukou_number", "hukou_building",
           "hukou_room", "hukou_address", "permit_number", "note")


def _clear_fields() -> list[str]:
    return sorted(privacy.RECORD_FIELDS["person"] - set(_guarded()))


def _guarded() -> list[str]:
    role = current_user.role
    return [n for n in privacy.RECORD_FIELDS["person"] if not privacy.clear(role, "person", n)]


@bp.route("/persons/<uuid:person_id>/edit", methods=["GET", "POST"])
@requires("edit")
@writes_on_get
def edit_person(person_id: uuid.UUID) -> Any:
    person_ = _visible_person(person_id)
    g.no_store = True
    form = PersonForm(obj=person_, landline_area=current_app.config["LANDLINE_AREA_CODE"],
                      employers=_employers(person_))
    guarded = [n for n in GUARDED if n in _guarded()]
    if request.method == "GET":
        form.version.data = str(person_.version)
        # Opening the form is a look at the person's record, like the person page.
        audit.record("open_person_edit", "person", person_.id, clear=_clear_fields())
        db.session.commit()
    # What was typed, not the field's data: a field missing from the post keeps the record's value.
    kept = [n for n in guarded if request.method == "GET" or not (request.form.get(n) or "").strip()]
    for name in kept:
        # Validated as stored, never rendered. raw_data too: `Optional()` reads it, and with the
        # empty input it would stop the field's checks, leaving no parsed phone (a masked role's
        # save used to erase the person's mobile).
        stored = getattr(person_, name)
        getattr(form, name).data = stored
        getattr(form, name).raw_data = [str(stored)] if stored not in (None, "") else []
    valid = form.validate_on_submit() or (form.is_submitted() and _only_kept_values_fail(form, person_, kept))
    changes = _person_changes(form, person_, kept) if valid else {}
    for name in guarded:
        field = getattr(form, name)
        if name in kept:
            field.data, field.raw_data = "", []
        hint = privacy.seen(current_user.role, "person", name, getattr(person_, name))
        field.render_kw = {**(field.render_kw or {}), "placeholder": hint or _("(not shown: leave empty to keep)")}
    if valid:
        if _stale(form.version.data, person_):
            flash(_("Someone else changed this person meanwhile; review their version and try again."), "error")
            return _person_page(form, person_, guarded, 409)
        renumbered = changes["id_number"] != person_.id_number
        held = renumber.check(db.session, current_scope(), person_, changes["id_number"]) if renumbered else None
        if held is not None and held.refused:
            form.id_number.errors = [_("Another person already has this ID number.")]
            return _person_page(form, person_, guarded, 409)
        if held is not None:
            # A number nobody holds clears a held record's claim (the centre corrected it);
            # one held outside the user's cells makes this record claim it, for the centre.
            changes["claims_id_of"] = held.claims
        diff = apply_changes(person_, changes, current_user.id)
        if held is not None and held.claims is not None:
            renumber.case_for_centre(db.session, person_, held.claims, changes["id_number"], current_user.id)
        typed = [n for n in guarded if n not in kept]
        if typed and not diff:
            # A role that sees these fields masked typed over them what they already hold:
            # "nothing changed" (no new version, no "Saved.") would tell it its guess was the
            # number. Saved as a change is, with the same values.
            person_.changed_by_id, person_.changed_at = current_user.id, utcnow()
            diff = dict.fromkeys(typed, (None, None))
        if diff:
            audit.record("edit_person", "person", person_.id, fields=sorted(diff))
            db.session.commit()
            flash(_("Saved."), "ok")
        return redirect(url_for("console.person", person_id=person_.id))
    return _person_page(form, person_, guarded, 422 if request.method == "POST" else 200)


def _person_page(form: PersonForm, person_: Person, guarded: list[str], status: int) -> Any:
    return render_template("console/person_edit.html", form=form, person=person_, guarded=guarded,
                           landline_area=current_app.config["LANDLINE_AREA_CODE"]), status


def _only_kept_values_fail(form: PersonForm, person_: Person, kept: list[str]) -> bool:
    """Whether the only failing fields are hidden ones the user left as stored: then those
    errors go, and the stored values stand as they are (`_person_changes`).

    A value stored under older rules (a county code retired from GB/T 2260 since, a number
    imported before a check existed) failed again on every save, at a field the role may
    not see: nothing about the person could be saved. An ID number is checked again when
    its type was changed: the stored number must fit the new type."""
    unchecked = [n for n in kept if n != "id_number" or form.id_type.data == person_.id_type]
    failing = [field for field in form if field.errors]
    if not failing or any(field.name not in unchecked for field in failing):
        return False
    for field in failing:
        field.errors = []
    return True


def _person_changes(form: PersonForm, person_: Person, kept: list[str]) -> dict[str, Any]:
    """The form's values; a hidden field left empty keeps the stored value exactly."""
    parsed = form.parsed_id
    employer = form.employer_unit_id.data
    changes = {
        "name": form.name.data.strip(), "id_type": form.id_type.data,
        "id_number": parsed.number if parsed else person_.id_number,
        "sex": (parsed and parsed.sex) or person_.sex, "birth_date": (parsed and parsed.birth_date) or person_.birth_date,
        "phone": form.parsed_phone, "landline": form.parsed_landline,
        "phone_status": form.phone_status.data or None, "category": form.category.data,
        **{name: _blank_to_none(getattr(form, name).data) for name in HUKOU_PARTS},
        "hukou_address": _blank_to_none(form.hukou_address.data),
        "permit_number": _blank_to_none(form.permit_number.data),
        "permit_issued": form.permit_issued.data, "permit_expiry": form.permit_expiry.data,
        "employer_unit_id": uuid.UUID(employer) if employer else None,
        "note": _blank_to_none(form.note.data),
    }
    return {**changes, **{name: getattr(person_, name) for name in kept}}


HUKOU_PARTS = ("hukou_region", "hukou_road", "hukou_number", "hukou_building", "hukou_room")


def _employers(person_: Person) -> list[tuple[str, str]]:
    """The units a person may be linked to as employer: those of the user's cells (and the
    current employer, wherever it is)."""
    units = db.session.execute(
        select(Unit.id, Unit.name, House).join(House, House.id == Unit.house_id)
        .where(Unit.deleted_at.is_(None), current_scope().house_clause())
        .order_by(Unit.name)).all()
    out = [(str(uid), f"{name}（{house.address}）") for uid, name, house in units]
    current = person_.employer_unit_id
    if current is not None and str(current) not in {v for v, _ in out}:
        unit = db.session.get(Unit, current)
        out.insert(0, (str(current), unit.name if unit and unit.name else str(current)))
    return out

