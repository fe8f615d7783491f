"""The conflict queue and its decisions. Thin: parse, authorise, call sync.resolve, render."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from sync import resolve as service
from sync.conflicts import KINDS
from sync.resolve_rules import ResolveError
from webapp import audit
from webapp.access import current_scope, requires
from webapp.conflicts import bp, display
from webapp.conflicts.forms import ResolveForm, resolve_form
from webapp.base.dbsetup import writes_on_get
from webapp.extensions import db
from webapp.models import Cell, Committee, Conflict
from webapp.templating import bilingual
from webapp.base.timeutil import utcnow
from webapp.query_args import days, page_number, whole_number

PAGE_SIZE = 50


def _uuid_arg(name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.args.get(name, ""))
    except ValueError:
        return None


def _filters() -> service.Filters:
    kind = request.args.get("kind") or None
    return service.Filters(
        kind=kind if kind in KINDS else None, committee_id=_uuid_arg("committee"), cell_id=_uuid_arg("cell"),
        older_than_days=days("older"), resolved=request.args.get("status") == "resolved")


def _choices() -> tuple[list[Committee], list[Cell]]:
    scope = current_scope()
    cells = db.session.scalars(select(Cell).where(scope.cell_clause(), Cell.deleted_at.is_(None))
                               .order_by(Cell.code)).all()
    committees = db.session.scalars(select(Committee).where(
        Committee.id.in_({c.committee_id for c in cells})).order_by(Committee.code)).all()
    return list(committees), list(cells)


@bp.route("/conflicts")
@login_required
def index() -> Any:
    filters = _filters()
    page = page_number()
    query = service.queue(current_scope(), filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    conflicts = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    committees, cells = _choices()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("conflicts/index.html", conflicts=conflicts, filters=filters, total=total,
                           page=page, pages=max(1, -(-total // PAGE_SIZE)), args=args, committees=committees,
                           cells={c.id: c for c in cells}, now=utcnow(), display=display,
                           kinds=display.kind_choices())


def _visible(conflict_id: uuid.UUID) -> Conflict:
    conflict = service.find_visible(db.session, current_scope(), conflict_id)
    if conflict is None:
        abort(404)
    return conflict


def _render(case: service.Case, form: ResolveForm, status: int = 200, general: list[str] | None = None) -> Any:
    g.no_store = True  # device values may carry ID numbers
    scope = current_scope()
    return render_template("conflicts/show.html", case=case, conflict=case.conflict, form=form,
                           general=general or [], display=display, role=scope.role,
                           links=display.record_links(case),
                           may_resolve=scope.may("resolve") and case.conflict.resolved_at is None), status


def _new_form(case: service.Case, **kwargs: Any) -> ResolveForm:
    form = resolve_form(case.rows, case.creating, **kwargs)
    if request.method == "GET":
        form.version.data = str(case.target.version) if case.target is not None else ""
    return form


@bp.route("/conflicts/<uuid:conflict_id>")
@login_required
@writes_on_get
def show(conflict_id: uuid.UUID) -> Any:
    conflict = _visible(conflict_id)
    # The device's values may hold a person's data: every look is recorded (PIPL art. 56).
    audit.record("view_conflict", "conflict", conflict.id)
    db.session.commit()
    case = service.open_case(db.session, conflict)
    return _render(case, _new_form(case))


@bp.route("/conflicts/<uuid:conflict_id>/resolve", methods=["POST"])
@requires("resolve")
def resolve(conflict_id: uuid.UUID) -> Any:
    conflict = _visible(conflict_id)
    case = service.open_case(db.session, conflict)
    form = _new_form(case)
    if not form.validate_on_submit():
        return _render(case, form, 422, [_("Choose keep, take or type a value for each field.")])
    decisions = {row.name: service.Decision(form.choice(row.name).data or "keep",
                                            value.data if (value := form.value(row.name)) is not None else None)
                 for row in case.rows}
    version = form.version.data or ""  # empty: no record to compare with (a creation held)
    expected = whole_number(version) if version else None
    try:
        if version and expected is None:
            # Not a version this form was given ("²" and 5,000 digits were a 500): stale.
            raise service.Stale()
        result = service.resolve(db.session, case, decisions, current_user.id,
                                 expected_version=expected, restore=bool(form.restore.data))
    except service.Stale:
        db.session.rollback()
        case = service.open_case(db.session, _visible(conflict_id))
        return _render(case, _new_form(case), 409,
                       [_("Someone else changed this record or resolved this conflict meanwhile; review and try again.")])
    except ResolveError as error:
        db.session.rollback()
        return _render(case, form, 422, _place_errors(form, error))
    audit.record("resolve_conflict", "conflict", conflict.id, kind=conflict.kind, record_type=conflict.record_type,
                 record_id=str(result.target_id), decision=result.action, version=result.version,
                 fields=result.choices)
    db.session.commit()
    flash(_("Conflict resolved."), "ok")
    return redirect(url_for("conflicts.index"))


def _place_errors(form: ResolveForm, error: ResolveError) -> list[str]:
    """Each error at its field; what belongs to no field on the page goes above the table."""
    general: list[str] = []
    for item in error.errors:
        message = bilingual(item)
        field = form.value(item.field) or form._fields.get(f"choice__{item.field}")
        if field is None and item.field == "restore":
            field = form.restore
        if field is None:
            general.append(f"{display.field_label(item.field)}: {message}")
        else:
            field.errors = [*field.errors, message]
    return general


from webapp.conflicts import combine as _combine  # noqa: E402,F401  (the combine form's routes)
