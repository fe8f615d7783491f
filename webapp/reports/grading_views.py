"""Quality grading (达标) pages: the subdistrict, one committee, the records behind each
number, exports, and closing a cycle (which freezes its grades). Thin: parse, scope, ask
webapp.oversight.grading, render."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from geo.cycles import current_cycle
from webapp import audit
from webapp.access import current_scope, requires
from webapp.base.dbsetup import sqlite_begin, writes_on_get
from webapp.extensions import db
from webapp.models import Cell, Committee, Cycle
from webapp.models.enums import Grade
from webapp.oversight.grading import GradeReport, GradeRow, close_and_freeze, freeze, grade_cycle, still_running, trend
from webapp.oversight.grading.drill import METRICS, drill
from webapp.reports import bp
from webapp.reports.common import (audit_shown, geo_settings, page_of, parse_uuid, row_table, rows, rule_settings,
                                   send_export)
from webapp.reports.forms import CycleForm
from webapp.reports.grading_table import DIMENSIONS, FIGURES, figure, grade_table
from webapp.templating import lang
from webapp.base.timeutil import local_today


def _current() -> Cycle:
    """The current cycle, created on first look in a new period. On SQLite that write must
    not follow reads in a DEFERRED transaction: end the login's read, then take the lock."""
    db.session.commit()
    token = sqlite_begin.set("IMMEDIATE")
    try:
        cycle = current_cycle(db.session, local_today(), settings=geo_settings())
        db.session.commit()
    finally:
        sqlite_begin.reset(token)
    return cycle


def _cycle() -> Cycle:
    cycle_id = parse_uuid(request.args.get("cycle"))
    return _current() if cycle_id is None else db.get_or_404(Cycle, cycle_id)


def _choices(chosen: Cycle) -> list[Cycle]:
    cycles = list(db.session.scalars(select(Cycle).where(Cycle.starts_on <= local_today())
                                     .order_by(Cycle.starts_on.desc()).limit(36)))
    return cycles if chosen in cycles else [chosen, *cycles]


def _report(cycle: Cycle, cell_ids: frozenset[uuid.UUID] | None) -> GradeReport:
    return grade_cycle(db.session, cycle, today=local_today(), settings=rule_settings(),
                       geo_settings=geo_settings(), cell_ids=cell_ids)


def _committee(committee_id: uuid.UUID) -> tuple[Committee, frozenset[uuid.UUID]]:
    """A committee the user may see, and its cells within the user's scope (404 otherwise)."""
    committee = db.get_or_404(Committee, committee_id)
    scope = current_scope()
    cells = frozenset(db.session.scalars(select(Cell.id).where(Cell.committee_id == committee_id,
                                                               Cell.deleted_at.is_(None), scope.cell_clause())))
    if not cells:
        abort(404)
    return committee, cells


def grade_label(grade: str | None) -> str:
    return Grade(grade).label(lang()) if grade else "—"


@bp.route("/grading")
@requires("see_grades")
def grading() -> Any:
    cycle = _cycle()
    scope = current_scope()
    report = _report(cycle, scope.cell_ids)
    history = trend(db.session, [*(r.committee_id for r in report.rows), None])
    return render_template("reports/grading.html", cycle=cycle, cycles=_choices(cycle), report=report,
                           history=history, dimensions=DIMENSIONS, grade_label=grade_label,
                           whole=scope.cell_ids is None, form=CycleForm(), today=local_today())


@bp.route("/grading/committees/<uuid:committee_id>")
@requires("see_grades")
def committee(committee_id: uuid.UUID) -> Any:
    committee_, cells = _committee(committee_id)
    cycle = _cycle()
    report = _report(cycle, cells)
    row = next((r for r in report.rows if r.committee_id == committee_id), None)
    if row is None:
        abort(404)
    history = trend(db.session, [committee_id])
    return render_template("reports/committee.html", committee=committee_, cycle=cycle, cycles=_choices(cycle),
                           report=report, row=row, history=history, dimensions=DIMENSIONS, figures=FIGURES,
                           figure=figure, metrics=METRICS, grade_label=grade_label)


def _drill(committee_id: uuid.UUID, metric: str) -> tuple[Committee, Cycle, list[Any]]:
    if metric not in METRICS:
        abort(404)
    committee_, cells = _committee(committee_id)
    cycle = _cycle()
    found = drill(db.session, metric, cycle, today=local_today(), settings=rule_settings(), cell_ids=cells)
    return committee_, cycle, found


# Drill-down metrics under their names before issue 20 (tip became task): an old link still
# finds the list it meant.
OLD_METRICS = {"tips": "tasks"}


def _renamed(metric: str, **values: Any) -> Any:
    if metric not in OLD_METRICS:
        return None
    assert request.endpoint is not None
    return redirect(url_for(request.endpoint, metric=OLD_METRICS[metric], **values, **request.args), 301)


@bp.route("/grading/committees/<uuid:committee_id>/drill/<metric>")
@requires("see_grades")
@writes_on_get
def drill_page(committee_id: uuid.UUID, metric: str) -> Any:
    if moved := _renamed(metric, committee_id=committee_id):
        return moved
    committee_, cycle, found = _drill(committee_id, metric)
    shown, page, pages = page_of(found)
    zh, en = METRICS[metric]
    items = rows(shown)
    if items:
        audit_shown("view_report", items, report="grading_drill", metric=metric, cycle=cycle.name,
                    committee=str(committee_id), page=page)
    return render_template("reports/drill.html", committee=committee_, cycle=cycle, metric=metric,
                           title=zh if lang() == "zh" else en, total=len(found), items=items, page=page,
                           pages=pages)


@bp.route("/grading/committees/<uuid:committee_id>/drill/<metric>.<fmt>")
@requires("see_grades")
@requires("export")
@writes_on_get
def drill_export(committee_id: uuid.UUID, metric: str, fmt: str) -> Any:
    if moved := _renamed(metric, committee_id=committee_id, fmt=fmt):
        return moved
    committee_, cycle, found = _drill(committee_id, metric)
    zh, en = METRICS[metric]
    title = f"{committee_.name} · {cycle.name} · {zh if lang() == 'zh' else en}"
    return send_export(fmt, title, f"grading-{metric}", [((zh if lang() == "zh" else en), row_table(rows(found)))],
                       report="grading_drill", metric=metric, cycle=cycle.name, committee=str(committee_id))


@bp.route("/grading/export.<fmt>")
@requires("see_grades")
@requires("export")
@writes_on_get
def grading_export(fmt: str) -> Any:
    cycle = _cycle()
    report = _report(cycle, current_scope().cell_ids)
    state = _("frozen") if report.frozen else _("live")
    table = grade_table([*report.rows, _total(report)], grade_label)
    return send_export(fmt, f"{_('Quality grading')} · {cycle.name} ({state})", f"grading-{cycle.name}",
                       [(_("Grades"), table)], report="grading", cycle=cycle.name, frozen=report.frozen)


def _total(report: GradeReport) -> GradeRow:
    total = report.total
    total.name = _("Subdistrict") if current_scope().cell_ids is None else _("All shown")
    return total


@bp.route("/grading/close", methods=["POST"])
@requires("admin")
def close() -> Any:
    """Close a cycle: coverage and grades freeze; from then on its figures never change."""
    form = CycleForm()
    cycle = db.session.get(Cycle, parse_uuid(form.cycle.data)) if form.validate_on_submit() else None
    if cycle is None:
        flash(_("Choose a cycle to close."), "error")
        return redirect(url_for("reports.grading"))
    if cycle.is_closed:
        flash(_("This cycle is already closed."), "error")
        return redirect(url_for("reports.grading", cycle=cycle.id))
    if still_running(cycle, local_today()):
        flash(_("This cycle runs until %(day)s: it can be closed from the next day.", day=cycle.ends_on.isoformat()),
              "error")
        return redirect(url_for("reports.grading", cycle=cycle.id))
    close_and_freeze(db.session, cycle, current_user.id, today=local_today(), settings=rule_settings(),
                     geo_settings=geo_settings())
    audit.record("cycle.close", "cycle", cycle.id, name=cycle.name, grades=True)
    db.session.commit()
    flash(_("Cycle %(name)s closed; its coverage and grades are frozen.", name=cycle.name), "ok")
    return redirect(url_for("reports.grading", cycle=cycle.id))


@bp.route("/grading/freeze", methods=["POST"])
@requires("admin")
def freeze_grades() -> Any:
    """Freeze the grades of a cycle closed before closing froze grades too (older closes)."""
    form = CycleForm()
    cycle = db.session.get(Cycle, parse_uuid(form.cycle.data)) if form.validate_on_submit() else None
    if cycle is None or not cycle.is_closed:
        flash(_("Only a closed cycle's grades can be frozen."), "error")
        return redirect(url_for("reports.grading"))
    try:
        freeze(db.session, cycle, current_user.id, today=local_today(), settings=rule_settings(),
               geo_settings=geo_settings())
    except ValueError:
        flash(_("The grades of this cycle are already frozen."), "error")
        return redirect(url_for("reports.grading", cycle=cycle.id))
    audit.record("grades.freeze", "cycle", cycle.id, name=cycle.name)
    db.session.commit()
    flash(_("Grades of %(name)s frozen.", name=cycle.name), "ok")
    return redirect(url_for("reports.grading", cycle=cycle.id))


