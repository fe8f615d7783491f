"""The review queue (审核): reviews of houses in the user's cells, pending first; grid leads,
committees and the centre approve or return them with a reason; whoever may edit the cell
resubmits a returned one; committees and the centre switch review on for a committee."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from webapp import audit
from webapp.access import current_scope, requires
from webapp.extensions import db
from webapp.models import Cell, Committee
from webapp.models.enums import ReviewKind, ReviewStatus, Role
from webapp.registry import review as rules
from webapp.reviews import bp
from webapp.reviews.forms import DecideForm, SettingForm
from webapp.templating import lang
from webapp.query_args import page_number

PAGE_SIZE = 50
_KINDS = {k.value for k in ReviewKind}
_KEEP = ("status", "cell", "kind", "page")


def _filters() -> rules.QueueFilters:
    """The queue's filters from the query string (404 on a value that cannot be one)."""
    status = request.args.get("status", "waiting")
    kind = request.args.get("kind") or None
    if status not in rules.QUEUE_STATUSES or (kind is not None and kind not in _KINDS):
        abort(404)
    raw_cell = request.args.get("cell") or None
    try:
        cell_id = uuid.UUID(raw_cell) if raw_cell else None
    except ValueError:
        abort(404)
    if cell_id is not None and not current_scope().covers_cell(cell_id):
        abort(404)
    return rules.QueueFilters(status=status, cell_id=cell_id, kind=kind)


def _settable_committees() -> list[Committee]:
    """The committees whose setting this user may switch: their own, or every one for the centre."""
    if not current_scope().may("review_settings"):
        return []
    query = select(Committee).where(Committee.deleted_at.is_(None)).order_by(Committee.code)
    if current_user.role != Role.CENTRE:
        query = query.where(Committee.id == current_user.committee_id)
    return list(db.session.scalars(query))


@bp.route("/reviews")
@requires("view")
def index() -> Any:
    scope = current_scope()
    filters = _filters()
    page = page_number()
    query = rules.queue(scope, filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    reviews = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    cells = db.session.scalars(select(Cell).where(scope.cell_clause(), Cell.deleted_at.is_(None))
                               .order_by(Cell.code)).all()
    args = {k: v for k, v in (("status", filters.status), ("cell", str(filters.cell_id) if filters.cell_id else ""),
                              ("kind", filters.kind or "")) if v}
    return render_template("reviews/index.html", reviews=reviews, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), filters=filters, args=args, cells=cells,
                           kinds=ReviewKind.choices(lang()), form=DecideForm(),
                           committees=_settable_committees(), setting_form=SettingForm())


def _back() -> Any:
    keep = {k: v for k, v in request.args.items() if k in _KEEP}
    return redirect(url_for("reviews.index", **keep))


def _refused(error: rules.ReviewRefused) -> None:
    flash(" ".join(e.zh if lang() == "zh" else e.en for e in error.errors), "error")


def _keep_typed(reason: str | None) -> None:
    # A refused decision goes back to the list: a reason typed for it is said there, to copy.
    if reason and reason.strip():
        flash(_("What you typed (not saved): %(text)s", text=reason.strip()), "error")


def _change(review_id: uuid.UUID, status: ReviewStatus, action: str, done: str) -> Any:
    review = rules.find_visible(db.session, current_scope(), review_id)
    if review is None:
        abort(404)
    form = DecideForm()
    back = _back()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return back
    if form.version.data != str(review.version):
        flash(_("Someone else decided or resubmitted this review meanwhile."), "error")
        _keep_typed(form.reason.data)
        return back
    try:
        before = rules.change_status(review, current_scope(), current_user.id, status, form.reason.data)
    except rules.ReviewRefused as error:
        db.session.rollback()
        _refused(error)
        _keep_typed(form.reason.data)
        return back
    audit.record(action, "review", review.id, kind=review.kind, residency_id=str(review.residency_id),
                 before=before, after=review.status, reason=review.reason if status == ReviewStatus.RETURNED else None)
    db.session.commit()
    flash(done, "ok")
    return back


@bp.route("/reviews/<uuid:review_id>/approve", methods=["POST"])
@requires("review")
def approve(review_id: uuid.UUID) -> Any:
    return _change(review_id, ReviewStatus.APPROVED, "review_approved", _("Review approved."))


@bp.route("/reviews/<uuid:review_id>/return", methods=["POST"])
@requires("review")
def return_(review_id: uuid.UUID) -> Any:
    return _change(review_id, ReviewStatus.RETURNED, "review_returned", _("Returned to the coordinator."))


@bp.route("/reviews/<uuid:review_id>/resubmit", methods=["POST"])
@requires("edit")
def resubmit(review_id: uuid.UUID) -> Any:
    return _change(review_id, ReviewStatus.PENDING, "review_resubmitted", _("Resubmitted for review."))


@bp.route("/reviews/committees/<uuid:committee_id>/setting", methods=["POST"])
@requires("review_settings")
def setting(committee_id: uuid.UUID) -> Any:
    committee = next((c for c in _settable_committees() if c.id == committee_id), None)
    if committee is None:
        abort(404)
    form = SettingForm()
    back = _back()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return back
    if form.version.data != str(committee.version):
        flash(_("Someone else changed this committee meanwhile."), "error")
        return back
    before = rules.set_required(committee, bool(form.review_required.data), current_user.id)
    if before != committee.review_required:
        audit.record("review_setting", "committee", committee.id, before=before, after=committee.review_required)
        db.session.commit()
    flash(_("Review is required in %(name)s.", name=committee.name) if committee.review_required
          else _("Review is not required in %(name)s.", name=committee.name), "ok")
    return back
