"""The tips queue (线索): open reports about houses in the user's cells, and closing them."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from webapp import audit
from webapp.access import current_scope, requires
from webapp.extensions import db
from webapp.models.enums import TipStatus
from webapp.registry.tips import TipError, close_tip, find_visible, visible_tips
from webapp.tips import bp
from webapp.tips.forms import CloseTipForm

PAGE_SIZE = 50
_STATUSES = {s.value for s in TipStatus}


@bp.route("/tips")
@login_required
def index() -> Any:
    status = request.args.get("status", TipStatus.OPEN)
    if status not in _STATUSES and status != "all":
        abort(404)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    query = visible_tips(current_scope(), None if status == "all" else status)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    tips = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("tips/index.html", tips=tips, status=status, page=page, total=total,
                           pages=max(1, -(-(total or 0) // PAGE_SIZE)), form=CloseTipForm())


@bp.route("/tips/<uuid:tip_id>/close", methods=["POST"])
@requires("edit")
def close(tip_id: uuid.UUID) -> Any:
    tip = find_visible(db.session, current_scope(), tip_id)
    if tip is None:
        abort(404)
    form = CloseTipForm()
    back = redirect(url_for("tips.index"))
    if not form.validate_on_submit():
        flash(_("Choose a result and say what was found."), "error")
        return back
    if form.version.data != str(tip.version) or not tip.is_open:
        flash(_("Someone else closed or changed this tip meanwhile."), "error")
        return back
    try:
        close_tip(tip, form.status.data, form.outcome.data, current_user.id)
    except TipError:
        flash(_("Choose a result and say what was found."), "error")
        return back
    audit.record("close_tip", "tip", tip.id, status=tip.status)
    db.session.commit()
    flash(_("Tip closed."), "ok")
    return back
