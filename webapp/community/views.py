"""The reporter's pages: find a house, file a report, see one's reports. Thin views."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp import audit
from webapp.access import current_scope, requires
from webapp.community import bp
from webapp.community.forms import ReportForm
from webapp.extensions import db
from webapp.models import Committee
from webapp.models.enums import TaskResult, TaskSource
from webapp.registry.scope import report_cells
from webapp.oversight.tasks import TaskSettings
from webapp.oversight.tasks.community import (
    changes_by_source, file_report, find_houses, my_reports, reportable_house, reporter_figures,
)
from webapp.templating import lang


@bp.context_processor
def _labels() -> dict[str, Any]:
    def result_label(value: str | None) -> str:
        return TaskResult(value).label(lang()) if value in TaskResult._value2member_map_ else ""
    return {"result_label": result_label}


@bp.route("")
@requires("report")
def home() -> Any:
    q = request.args.get("q", "")
    cells = report_cells(db.session, current_user)
    return render_template("community/home.html", q=q, found=find_houses(db.session, cells, q) if q else None,
                           reports=my_reports(db.session, current_user.id), has_area=bool(cells))


@bp.route("/houses/<uuid:house_id>/report", methods=["GET", "POST"])
@requires("report")
def report(house_id: uuid.UUID) -> Any:
    house = reportable_house(db.session, report_cells(db.session, current_user), house_id)
    if house is None:
        abort(404)
    form = ReportForm()
    if form.validate_on_submit():
        task = file_report(db.session, current_user, house, form.kind.data, form.text.data or "",
                          form.reporting_as.data, TaskSettings.from_config(current_app.config))
        audit.record("community_report", "task", task.id, house_id=str(house.id), source=task.source)
        db.session.commit()
        flash(_("Thank you. Your report was passed to the coordinators of this area."), "ok")
        return redirect(url_for("community.home"))
    status = 422 if form.is_submitted() else 200
    return render_template("community/report.html", house=house, form=form), status


@bp.route("/reporters")
@requires("see_reporters")
def reporters() -> Any:
    """Each reporter's reports and how many led to a real change; and the same by source."""
    scope = current_scope()
    committees = None if scope.cell_ids is None else [current_user.committee_id] if current_user.committee_id else []
    names = {c.id: c.name for c in db.session.scalars(select(Committee))}
    return render_template("community/reporters.html", figures=reporter_figures(db.session, committees),
                           committees=names, sources=changes_by_source(db.session, scope.house_clause()),
                           source_labels=dict(TaskSource.choices(lang())))
