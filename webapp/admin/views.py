"""Logins' administration (/admin/users): the list, creating and changing logins,
deactivating, passwords, and cells for coordinators and grid leads (from a list or the map,
and from a cell's side). The centre manages every login; a committee its own coordinators and
grid leads. Thin: parse, authorise, call webapp.oversight.staff / accounts, audit, render."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp import audit
from webapp.access import requires
from webapp.admin import bp
from webapp.admin.forms import CellPeopleForm, CellsForm, UserForm
from webapp.auth.forms import EmptyForm
from webapp.auth.passwords import hash_password
from webapp.extensions import db
from webapp.models import Cell, Committee, Device, User
from webapp.models.enums import Role
from webapp.oversight import staff
from webapp.oversight.accounts import set_password, temporary_password
from webapp.reports.common import parse_uuid
from webapp.templating import lang
from webapp.base.timeutil import utcnow
from webapp.query_args import page_number

PAGE_SIZE = 50


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _user(user_id: int) -> User:
    """A login the current user manages; 404 otherwise (never confirm that it exists)."""
    user = db.session.get(User, user_id)
    if user is None or not staff.may_manage(_me(), user):
        abort(404)
    return user


def _refused(error: staff.StaffError) -> str:
    return error.zh if lang() == "zh" else error.en


def _user_form(obj: User | None = None) -> UserForm:
    me = _me()
    form = UserForm(obj=obj, roles=[(r.value, r.label(lang())) for r in staff.roles_for(me)],
                    committees=[(str(c.id), c.name) for c in staff.committees_for(db.session, me)])
    if request.method == "GET" and obj is not None:
        form.committee.data = str(obj.committee_id) if obj.committee_id else ""
    return form


def _filters() -> staff.UserFilters:
    status = request.args.get("status", "active")
    role = request.args.get("role") or None
    if role is not None and role not in {r.value for r in Role}:
        abort(404)
    return staff.UserFilters(q=request.args.get("q", "")[:64], role=role,
                             committee_id=parse_uuid(request.args.get("committee")),
                             active={"active": True, "inactive": False}.get(status))


@bp.route("/users")
@requires("admin_users")
def users() -> Any:
    filters = _filters()
    page = page_number()
    rows, total = staff.list_users(db.session, _me(), filters, idle_days=current_app.config["DEVICE_IDLE_DAYS"],
                                   now=utcnow(), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("admin/users.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), args=args, filters=filters,
                           status=request.args.get("status", "active"), roles=staff.roles_for(_me()),
                           committees=staff.committees_for(db.session, _me()))


@bp.route("/users/new", methods=["GET", "POST"])
@requires("admin_users")
def new_user() -> Any:
    form = _user_form()
    if form.validate_on_submit():
        password = temporary_password()
        try:
            user = staff.create(db.session, _me(), username=form.username.data or "",
                                display_name=form.display_name.data, role=form.role.data,
                                committee_id=parse_uuid(form.committee.data), phone=form.parsed_phone,
                                password_hash=hash_password(password))
        except staff.StaffError as error:
            db.session.rollback()
            field = form.username if error.code.startswith("username") else form.committee
            field.errors = [*field.errors, _refused(error)]
        else:
            audit.record("create_user", "user", user.id, username=user.username, role=user.role,
                         committee=str(user.committee_id) if user.committee_id else None)  # never the password
            db.session.commit()
            g.no_store = True  # the temporary password is on this page only, once
            return render_template("admin/reset_password.html", user=user, form=None, password=password,
                                   created=True)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user.html", form=form, user=None, cells=[], devices=[]), status


@bp.route("/users/<rowid:user_id>", methods=["GET", "POST"])
@requires("admin_users")
def edit_user(user_id: int) -> Any:
    user = _user(user_id)
    form = _user_form(user)
    if form.validate_on_submit():
        try:
            edit = staff.update(db.session, _me(), user, display_name=form.display_name.data, role=form.role.data,
                                committee_id=parse_uuid(form.committee.data), phone=form.parsed_phone)
        except staff.StaffError as error:
            db.session.rollback()
            form.committee.errors = [*form.committee.errors, _refused(error)]
        else:
            if edit.diff:
                revoked = ({"devices_revoked": edit.devices_revoked, "devices_revoked_because": edit.revoked_because}
                           if edit.devices_revoked else {})
                audit.record("edit_user", "user", user.id, username=user.username,
                             **{k: [_plain(old), _plain(new)] for k, (old, new) in edit.diff.items() if k != "phone"},
                             phone_changed="phone" in edit.diff, **revoked)
                db.session.commit()
                flash(_("Saved."), "ok")
                if edit.revoked_because == "sees_less":
                    # The phone holds ID numbers and phones in clear from the old role: the admin
                    # must know it stops working until its user logs in again.
                    flash(_("%(name)s's new role sees ID numbers and phones only masked, so their phone logins "
                            "have ended (%(n)d). The phone must log in again and then holds the numbers "
                            "masked; unsynced work on it can be exported for the centre.",
                            name=user.display_name, n=edit.devices_revoked), "ok")
                elif edit.revoked_because == "no_device":
                    flash(_("%(name)s's new role holds no phone, so their phone logins have ended (%(n)d).",
                            name=user.display_name, n=edit.devices_revoked), "ok")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    cells = db.session.scalars(select(Cell).where(Cell.id.in_(staff.cells_of(db.session, user))).order_by(Cell.code)).all()
    devices = db.session.scalars(select(Device).where(Device.user_id == user.id)
                                 .order_by(Device.revoked_at.is_not(None), Device.created_at.desc())).all()
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user.html", form=form, user=user, cells=cells, devices=devices,
                           action_form=EmptyForm()), status


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


@bp.route("/users/<rowid:user_id>/deactivate", methods=["POST"])
@requires("admin_users")
def deactivate(user_id: int) -> Any:
    user = _user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if user.active:
        revoked = staff.deactivate(db.session, _me(), user)  # ends sessions and phone tokens at once
        audit.record("deactivate_user", "user", user.id, username=user.username, devices_revoked=revoked)
        db.session.commit()
        flash(_("%(name)s is deactivated: their sessions and %(n)d phone logins have ended.",
                name=user.display_name, n=revoked), "ok")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<rowid:user_id>/reactivate", methods=["POST"])
@requires("admin_users")
def reactivate(user_id: int) -> Any:
    user = _user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if user.active:
        return redirect(url_for("admin.edit_user", user_id=user.id))
    staff.reactivate(db.session, _me(), user)
    password = temporary_password()
    set_password(db.session, user, hash_password(password), temporary=True)
    audit.record("reactivate_user", "user", user.id, username=user.username)  # never the password
    db.session.commit()
    g.no_store = True
    return render_template("admin/reset_password.html", user=user, form=None, password=password)


# One rule for both methods: with a GET rule and a POST rule on one path, werkzeug answered
# a POST to an id the converter refuses with 405 (it noted the GET rule's method first).
@bp.route("/users/<rowid:user_id>/reset-password", methods=["GET", "POST"])
@requires("admin_users")
def reset_password(user_id: int) -> Any:
    user = _user(user_id)  # never oneself: one's own password is changed on /account
    if request.method == "GET":  # the confirmation
        return render_template("admin/reset_password.html", user=user, form=EmptyForm(), password=None)
    if not EmptyForm().validate_on_submit():
        abort(400)
    password = temporary_password()
    set_password(db.session, user, hash_password(password), temporary=True)  # ends the user's sessions
    audit.record("password_reset", "user", user.id, username=user.username)  # never the password
    db.session.commit()
    g.no_store = True  # the temporary password is on this page only, once
    return render_template("admin/reset_password.html", user=user, form=None, password=password)


def _cell_choices(cells: list[Cell], user: User) -> list[tuple[str, str]]:
    """Each cell by code and name; for a grid lead also the lead a cell has now."""
    def label(c: Cell) -> str:
        text = f"{c.code} {c.name}"
        if user.role == Role.GRID_LEAD and c.grid_lead is not None and c.grid_lead_id != user.id:
            text += " · " + _("grid lead: %(name)s", name=c.grid_lead.display_name)
        return text

    return [(str(c.id), label(c)) for c in cells]


@bp.route("/users/<rowid:user_id>/cells", methods=["GET", "POST"])
@requires("admin_users")
def user_cells(user_id: int) -> Any:
    user = _user(user_id)
    if user.role not in staff.CELL_ROLES:
        abort(404)
    givable = staff.cells_for(db.session, _me(), user)
    form = CellsForm(choices=_cell_choices(givable, user))
    if request.method == "GET":
        form.cells.data = [str(c) for c in staff.cells_of(db.session, user) & {c.id for c in givable}]
    if form.validate_on_submit():
        try:
            done = staff.set_cells(db.session, _me(), user, {uuid.UUID(c) for c in form.cells.data or []})
        except staff.StaffError as error:
            db.session.rollback()
            form.cells.errors = [*form.cells.errors, _refused(error)]
        else:
            if done.added or done.removed:
                audit.record("assign_cells", "user", user.id, username=user.username, role=user.role,
                             added=done.added, removed=done.removed, taken_from=done.taken_from)
                db.session.commit()
                flash(_("Cells saved: %(added)d given, %(removed)d taken away.", added=len(done.added),
                        removed=len(done.removed)), "ok")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/cells.html", user=user, form=form), status


@bp.route("/users/<rowid:user_id>/cells.json")
@requires("admin_users")
def user_cells_data(user_id: int) -> Any:
    """The cells the map may tick for this user: outlines (WGS-84, as stored), and whether the
    user has them (or, for a grid lead, another lead has them)."""
    user = _user(user_id)
    if user.role not in staff.CELL_ROLES:
        abort(404)
    mine = staff.cells_of(db.session, user)
    out = []
    for c in staff.cells_for(db.session, _me(), user):
        other = user.role == Role.GRID_LEAD and c.grid_lead_id not in (None, user.id)
        out.append({"id": str(c.id), "code": c.code, "name": c.name, "boundary": c.boundary,
                    "state": "mine" if c.id in mine else "other" if other else "free"})
    return jsonify(cells=out)


@bp.route("/cells/<uuid:cell_id>", methods=["GET", "POST"])
@requires("admin_users")
def cell_people(cell_id: uuid.UUID) -> Any:
    me = _me()
    cell = db.session.get(Cell, cell_id)
    if cell is None or cell.id not in {c.id for c in staff.cells_for(db.session, me)}:
        abort(404)
    people = staff.workers_for(db.session, me, cell)
    form = CellPeopleForm(leads=[(str(u.id), f"{u.display_name} ({u.username})") for u in people
                                 if u.role == Role.GRID_LEAD],
                          coordinators=[(str(u.id), f"{u.display_name} ({u.username})") for u in people
                                        if u.role == Role.COORDINATOR])
    if request.method == "GET":
        form.lead.data = str(cell.grid_lead_id) if cell.grid_lead_id else ""
        form.coordinators.data = [str(u.id) for u in cell.coordinators]
    if form.validate_on_submit():
        try:
            done = staff.set_cell_people(db.session, me, cell, int(form.lead.data) if form.lead.data else None,
                                         {int(u) for u in form.coordinators.data or []})
        except staff.StaffError as error:
            db.session.rollback()
            form.coordinators.errors = [*form.coordinators.errors, _refused(error)]
        else:
            if done["added"] or done["removed"] or "lead" in done:
                audit.record("cell_people", "cell", cell.id, code=cell.code, **done)
                db.session.commit()
                flash(_("Saved."), "ok")
            return redirect(url_for("console.cell", cell_id=cell.id))
    committee = db.session.get(Committee, cell.committee_id)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/cell.html", cell=cell, committee=committee, form=form), status
