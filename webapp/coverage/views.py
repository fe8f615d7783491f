"""The coverage map page, its JSON, and the exports. Thin: parse, scope, ask geo.coverage.

Every role may open it and sees only its own cells (`current_scope().cell_ids`); the
figures are counts, not personal data, so exporting them needs no more than seeing them.
"""
from __future__ import annotations

import io
import uuid
from typing import Any

from flask import (abort, current_app, g, jsonify, make_response, render_template, request, send_file,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from geo.coverage import CoverageReport, current_cycle, cycle_coverage, unvisited_houses
from geo.settings import GeoSettings
from webapp import audit
from webapp.access import current_scope, require_cell
from webapp.coverage import bp, drawing
from webapp.coverage import campaign as by_campaign
from webapp.coverage.bands import BANDS, DOTS, band_for
from webapp.coverage.columns import NUMBERS, numbers_of, percent, ratio_of
from webapp.coverage.dots import DOTS_LIMIT, dots_in_box, dots_of_cell
from webapp.coverage.export import cell_table, committee_name, committee_table
from webapp.base.dbsetup import sqlite_begin, writes_on_get
from webapp.extensions import db
from webapp.models import Cell, Cycle
from webapp.oversight.tasks.campaigns import progress
from webapp.reports.export import MIMETYPES, render
from webapp.base.timeutil import local_today, to_local, utcnow

# Below this zoom the map shows cells only: a district has ~200,000 houses.
DOTS_MIN_ZOOM = 16


def _settings() -> GeoSettings:
    return GeoSettings.from_config(current_app.config)


def _cycle() -> Cycle:
    """The cycle asked for, else the current one."""
    raw = request.args.get("cycle")
    if not raw:
        return _current_cycle()
    try:
        cycle_id = uuid.UUID(raw)
    except ValueError:
        abort(404)
    return db.get_or_404(Cycle, cycle_id, description=_("No such cycle."))


def _current_cycle() -> Cycle:
    """The first look in a new period creates its cycle. On SQLite that write must not
    follow reads in a DEFERRED transaction (a concurrent writer would make it fail), so end
    the login check's read and look it up in a transaction that takes the write lock first."""
    db.session.commit()
    token = sqlite_begin.set("IMMEDIATE")
    try:
        cycle = current_cycle(db.session, local_today(), settings=_settings())
        db.session.commit()
    finally:
        sqlite_begin.reset(token)
    return cycle


def _choices(chosen: Cycle) -> list[Cycle]:
    """Current and past cycles, newest first (and the chosen one, whatever its dates)."""
    cycles = list(db.session.scalars(
        select(Cycle).where(Cycle.starts_on <= local_today()).order_by(Cycle.starts_on.desc())
    ))
    return cycles if chosen in cycles else [chosen, *cycles]


def _report(cycle: Cycle, cell_ids: frozenset[uuid.UUID] | None = None) -> CoverageReport:
    scoped = current_scope().cell_ids
    if cell_ids is not None:
        scoped = cell_ids if scoped is None else cell_ids & scoped
    return cycle_coverage(db.session, cycle, cell_ids=scoped, settings=_settings())


def _total(report: CoverageReport) -> Any:
    total = report.total
    total.committee_name = _("All cells")
    return total


def _cell_json(c: Any) -> dict[str, Any]:
    ratio = ratio_of(c)
    return {"id": str(c.cell_id), "code": c.cell_code, "name": c.cell_name,
            "committee": c.committee_name, **numbers_of(c), "ratio": round(ratio, 4),
            "percent": percent(ratio), "band": band_for(c.houses, ratio).key}


def _cycle_json(cycle: Cycle, report: CoverageReport) -> dict[str, Any]:
    return {"id": str(cycle.id), "name": cycle.name, "starts_on": cycle.starts_on.isoformat(),
            "ends_on": cycle.ends_on.isoformat(), "frozen": report.frozen}


def _tiles() -> dict[str, str]:
    cfg = current_app.config
    return {"url": cfg.get("MAP_TILE_URL") or "", "attribution": cfg.get("MAP_TILE_ATTRIBUTION") or "",
            "crs": cfg.get("MAP_TILE_CRS") or "wgs84"}


@bp.route("")
@login_required
def page() -> Any:
    campaign = by_campaign.chosen(db.session, current_scope())
    if campaign is not None:
        return _campaign_page(campaign)
    cycle = _cycle()
    report = _report(cycle)
    committees = {getattr(c, "committee_id", None): c for c in report.committees}
    groups: dict[Any, list[Any]] = {}
    for c in report.cells:
        groups.setdefault(c.committee_id, []).append(c)
    tiles = _tiles()
    response = make_response(render_template(
        "coverage/index.html", cycle=cycle, cycles=_choices(cycle), report=report,
        groups=[(committees.get(cid), cells) for cid, cells in groups.items()],
        total=_total(report), numbers=NUMBERS, bands=BANDS, dots=DOTS, tiles=tiles,
        band_for=band_for, ratio_of=ratio_of, percent=percent, committee_name=committee_name,
        dots_min_zoom=DOTS_MIN_ZOOM,
    ))
    return _with_tiles_csp(response, tiles)


def _campaign_page(campaign: Any) -> Any:
    """The map coloured by a campaign's progress (its cells of the user's scope)."""
    report = progress(db.session, campaign, current_scope().cell_ids)
    tiles = _tiles()
    response = make_response(render_template(
        "coverage/campaign.html", campaign=campaign, report=report, numbers=by_campaign.NUMBERS, bands=BANDS,
        dots={k: v for k, v in DOTS.items() if k != "unverified"}, tiles=tiles, band_for=band_for,
        percent=percent, state=by_campaign.state_line(campaign)))
    return _with_tiles_csp(response, tiles)


def _with_tiles_csp(response: Any, tiles: dict[str, str]) -> Any:
    source = drawing.tile_source(tiles["url"]) if tiles["url"] else None
    if source:
        # Only with configured tiles does the page load images from elsewhere.
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; img-src 'self' data: blob: {source}; style-src 'self'; "
            "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
            "form-action 'self'"
        )
    return response


@bp.route("/data.json")
@login_required
def data() -> Any:
    """Cells with their figures and outlines: no houses (see dots.json)."""
    campaign = by_campaign.chosen(db.session, current_scope())
    if campaign is not None:
        return _campaign_data(campaign)
    cycle = _cycle()
    report = _report(cycle)
    crs = _tiles()["crs"]
    ids = [c.cell_id for c in report.cells]
    rows = db.session.execute(select(Cell.id, Cell.boundary).where(Cell.id.in_(ids))).all() if ids else []
    outlines = {cell_id: boundary for cell_id, boundary in rows}
    cells = [{**_cell_json(c), "boundary": drawing.geometry(outlines.get(c.cell_id), crs)} for c in report.cells]
    committees = [{"id": str(getattr(c, "committee_id", "") or ""), "name": committee_name(c),
                   **numbers_of(c), "percent": percent(ratio_of(c))} for c in report.committees]
    return jsonify(cycle=_cycle_json(cycle, report), cells=cells, committees=committees,
                   bands={b.key: {"fill": b.fill, "stroke": b.stroke, "label": str(b.label)} for b in BANDS},
                   dots={k: {"color": color, "label": str(label)} for k, (color, label) in DOTS.items()},
                   dots_min_zoom=DOTS_MIN_ZOOM, dots_limit=DOTS_LIMIT)


def _campaign_data(campaign: Any) -> Any:
    report = progress(db.session, campaign, current_scope().cell_ids)
    crs = _tiles()["crs"]
    return jsonify(campaign=by_campaign.area_json(campaign, crs), area=by_campaign.area_json(campaign, crs)["boundary"],
                   cells=by_campaign.cells_json(db.session, report.cells, crs), frozen=report.frozen,
                   bands={b.key: {"fill": b.fill, "stroke": b.stroke, "label": str(b.label)} for b in BANDS},
                   dots={k: {"color": color, "label": str(label)} for k, (color, label) in DOTS.items()},
                   dots_min_zoom=DOTS_MIN_ZOOM, dots_limit=DOTS_LIMIT)


@bp.route("/cells/<uuid:cell_id>.json")
@login_required
def cell(cell_id: uuid.UUID) -> Any:
    """One cell's figures, its unvisited houses, and its house dots."""
    require_cell(cell_id)
    campaign = by_campaign.chosen(db.session, current_scope())
    if campaign is not None:
        rows = [c for c in progress(db.session, campaign, current_scope().cell_ids).cells if c.cell_id == cell_id]
        if not rows:
            abort(404)
        crs = _tiles()["crs"]
        found, _many = by_campaign.dots(db.session, campaign, current_scope(), crs, cell_id=cell_id)
        return jsonify(campaign=by_campaign.area_json(campaign, crs), cell=by_campaign.cell_json(rows[0]),
                       unvisited=by_campaign.unvisited(db.session, campaign, current_scope(), cell_id), dots=found)
    cycle = _cycle()
    report = _report(cycle, frozenset({cell_id}))
    if not report.cells:
        abort(404)
    crs = _tiles()["crs"]
    unvisited = [{"id": str(h.id), "address": h.address, "url": url_for("console.house", house_id=h.id)}
                 for h in unvisited_houses(db.session, cycle, cell_id)]
    return jsonify(cycle=_cycle_json(cycle, report), cell=_cell_json(report.cells[0]),
                   unvisited=unvisited, dots=dots_of_cell(db.session, cycle, cell_id, crs, _settings()))


@bp.route("/dots.json")
@login_required
def dots() -> Any:
    """House dots inside a box (west,south,east,north in the map's drawing coordinates)."""
    campaign = by_campaign.chosen(db.session, current_scope())
    cycle = _cycle() if campaign is None else None
    try:
        west, south, east, north = (float(v) for v in request.args.get("bbox", "").split(","))
    except ValueError:
        abort(400)
    if not (west < east and south < north):
        abort(400)
    if campaign is not None:
        found, too_many = by_campaign.dots(db.session, campaign, current_scope(), _tiles()["crs"],
                                           box=(west, south, east, north))
        return jsonify(dots=found, too_many=too_many, limit=DOTS_LIMIT)
    assert cycle is not None
    found, too_many = dots_in_box(db.session, cycle, current_scope(), (west, south, east, north),
                                  _tiles()["crs"], _settings())
    return jsonify(dots=found, too_many=too_many, limit=DOTS_LIMIT)


@bp.route("/export.<fmt>")
@login_required
@writes_on_get
def export(fmt: str) -> Any:
    if fmt not in MIMETYPES:
        abort(404)
    cycle = _cycle()
    report = _report(cycle)
    now = to_local(utcnow())
    state = "已冻结 frozen" if report.frozen else "实时 live"
    note = (f"Gridwalk 覆盖率导出 coverage export · {current_user.username} ({current_user.role}) · "
            f"{now:%Y-%m-%d %H:%M} Asia/Shanghai · 周期 cycle {cycle.name} ({state}) · "
            f"{len(report.cells)} 个网格 cells")
    body = render(fmt, note, [(_("Cells"), cell_table(report.cells)),
                              (_("Committees"), committee_table(report.committees, _total(report)))])
    # Audited in the same transaction as the export: who, when (the row), what, and the note.
    audit.record("export_coverage", "cycle", cycle.id, fmt=fmt, cycle=cycle.name,
                 cells=len(report.cells), frozen=report.frozen, note=note)
    db.session.commit()
    g.no_store = True
    # send_file encodes a non-ASCII cycle name in the filename (RFC 6266).
    return send_file(io.BytesIO(body), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"gridwalk-coverage-{cycle.name}-{now:%Y%m%d-%H%M}.{fmt}", max_age=0)
