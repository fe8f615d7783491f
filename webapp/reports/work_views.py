"""The coordinators' work per cycle (/reports/coordinators) and the year's roll-up of the
committees' grades and the coordinators' figures (/reports/year/<y>), with exports. Thin:
parse, scope, ask webapp.oversight.coordinators and webapp.oversight.grading, render."""
from __future__ import annotations

from typing import Any

from flask import abort, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.access import current_scope, requires
from webapp.base.dbsetup import writes_on_get
from webapp.extensions import db
from webapp.models import Cell, Committee, GradeSnapshot
from webapp.models.grading import SUBDISTRICT_KEY
from webapp.oversight import coordinators
from webapp.oversight.coordinators import CoordinatorRow
from webapp.reports import bp
from webapp.reports.common import filters, geo_settings, send_export
from webapp.reports.grading_views import _choices, _cycle, grade_label
from webapp.base.timeutil import local_today

COLUMNS: tuple[tuple[str, Any], ...] = (
    ("houses", _l("Houses visited")), ("visits", _l("Visits")), ("scanned_pct", _l("Plate scanned")),
    ("gps_pct", _l("GPS at the house")), ("unverified", _l("Unverified visits")),
    ("created", _l("Records created")), ("changed", _l("Records changed")), ("conflicts", _l("Conflicts")),
    ("returned", _l("Returned by review")), ("tasks_closed", _l("Tasks closed")), ("on_time_pct", _l("On time")),
)


def cell_value(row: CoordinatorRow | dict[str, int], key: str) -> Any:
    """A column's value: a count, or a share (None when there is nothing to share)."""
    counts = row.counts if isinstance(row, CoordinatorRow) else row
    shares = {"scanned_pct": ("scanned", "visits"), "gps_pct": ("gps_verified", "visits"),
              "on_time_pct": ("tasks_on_time", "tasks_closed")}
    if key in shares:
        part, whole = shares[key]
        return round(100 * counts[part] / counts[whole], 1) if counts.get(whole) else None
    return counts.get(key, 0)


def _table(rows: list[CoordinatorRow], total: dict[str, int]) -> tuple[list[str], list[list[Any]]]:
    head = [_("Login"), _("Name"), *(str(label) for _k, label in COLUMNS)]
    body = [[r.username, r.name, *(cell_value(r, k) for k, _l in COLUMNS)] for r in rows]
    body.append([_("Total"), "", *(cell_value(total, k) for k, _l in COLUMNS)])
    return head, body


@bp.route("/coordinators")
@requires("see_coordinators")
def coordinators_page() -> Any:
    f = filters()
    cycle = _cycle()
    found = coordinators.report(db.session, cycle, f.cell_ids, geo_settings())
    return render_template("reports/coordinators.html", report=found, cycle=cycle, cycles=_choices(cycle),
                           filters=f, columns=COLUMNS, cell_value=cell_value)


@bp.route("/coordinators.<fmt>")
@requires("see_coordinators")
@writes_on_get
def coordinators_export(fmt: str) -> Any:
    f = filters()
    cycle = _cycle()
    found = coordinators.report(db.session, cycle, f.cell_ids, geo_settings())
    state = _("frozen") if found.frozen else _("live")
    return send_export(fmt, f"{_('Coordinators’ work')} · {cycle.name} ({state})", f"coordinators-{cycle.name}",
                       [(_("Coordinators"), _table(found.rows, found.total))], report="coordinators",
                       cycle=cycle.name, frozen=found.frozen, filters=f.describe())


def _year(y: int) -> dict[str, Any]:
    if not 2000 <= y <= local_today().year + 1:
        abort(404)
    f = filters()
    cycles, rows = coordinators.year(db.session, y, f.cell_ids)
    scope = current_scope()
    committees: list[Committee] = []
    grades: dict[Any, dict[Any, GradeSnapshot]] = {}
    if scope.may("see_grades") and cycles:
        visible = select(Cell.committee_id).where(Cell.deleted_at.is_(None), scope.cell_clause())
        if f.cell_ids is not None:
            visible = visible.where(Cell.id.in_(list(f.cell_ids)))
        committees = list(db.session.scalars(select(Committee).where(Committee.id.in_(visible)).order_by(Committee.code)))
        keys = [str(c.id) for c in committees] + ([SUBDISTRICT_KEY] if f.cell_ids is None else [])
        for snap in db.session.scalars(select(GradeSnapshot).where(
                GradeSnapshot.cycle_id.in_([c.id for c in cycles]), GradeSnapshot.committee_key.in_(keys))):
            grades.setdefault(snap.committee_key, {})[snap.cycle_id] = snap
    total = {k: sum(r.counts[k] for r in rows) for k in coordinators.COUNTS}
    return {"year": y, "cycles": cycles, "rows": rows, "committees": committees, "grades": grades, "total": total,
            "filters": f, "whole": f.cell_ids is None}


def _mean(snaps: list[GradeSnapshot]) -> float | None:
    scores = [s.score for s in snaps if s.score is not None]
    return round(sum(scores) / len(scores), 1) if scores else None


@bp.route("/year/<int:y>")
@requires("see_coordinators")
def year_page(y: int) -> Any:
    ctx = _year(y)
    return render_template("reports/year.html", columns=COLUMNS, cell_value=cell_value, grade_label=grade_label,
                           mean=_mean, subdistrict=SUBDISTRICT_KEY, **ctx)


@bp.route("/year/<int:y>.<fmt>")
@requires("see_coordinators")
@writes_on_get
def year_export(y: int, fmt: str) -> Any:
    ctx = _year(y)
    cycles = ctx["cycles"]
    head = [_("Committee"), *(c.name for c in cycles), _("Mean score")]
    body = []
    for committee in ctx["committees"]:
        snaps = ctx["grades"].get(str(committee.id), {})
        body.append([committee.name, *(f"{grade_label(snaps[c.id].grade)} {snaps[c.id].score or ''}".strip()
                                       if c.id in snaps else "" for c in cycles),
                     _mean(list(snaps.values()))])
    sheets = [(_("Coordinators"), _table(ctx["rows"], ctx["total"]))]
    if ctx["committees"]:
        sheets.insert(0, (_("Committee grades"), (head, body)))
    return send_export(fmt, f"{_('Annual roll-up')} {y}", f"year-{y}", sheets, report="year", year=y,
                       cycles=[c.name for c in cycles], filters=ctx["filters"].describe())
