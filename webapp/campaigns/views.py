"""Campaign pages: list, open (centre), progress with export, generate again, close; and
running the collection cycle (open the current one and make its unvisited-house tasks).

Thin: parse, authorise (`campaigns` for the centre's actions; `view` and the cells of one's
scope for progress), call `webapp.oversight.tasks.campaigns`, audit, render.
"""
from __future__ import annotations

import io
import uuid
from typing import Any

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from geo.area import read_polygon
from geo.cycles import current_cycle
from geo.settings import GeoSettings
from webapp import audit
from webapp.access import current_scope, requires
from webapp.campaigns import bp
from webapp.campaigns.forms import ActionForm, CampaignForm
from webapp.coverage.bands import BANDS, band_for
from webapp.base.dbsetup import writes_on_get
from webapp.extensions import db
from webapp.models import Campaign, Cell, Committee
from webapp.registry.rules import RuleSettings
from webapp.oversight.tasks import TaskSettings, fill_defaults, permits_due, unvisited_late
from webapp.oversight.tasks.campaigns import (FIGURES, CampaignError, CellProgress, Progress, close_campaign,
                                             generate_tasks, open_campaign, progress, touches, visible_campaigns)
from webapp.reports.export import MIMETYPES, render
from webapp.templating import lang
from webapp.base.timeutil import local_today, to_local, utcnow


def _geo() -> GeoSettings:
    return GeoSettings.from_config(current_app.config)


def _message(err: CampaignError) -> str:
    return err.zh if lang() == "zh" else err.en


def _campaign(campaign_id: int) -> Campaign:
    """The campaign, if it concerns the user's cells (404 otherwise: do not confirm it exists)."""
    campaign = db.get_or_404(Campaign, campaign_id, description=_("No such campaign."))
    scope = current_scope()
    if scope.cell_ids is not None and not touches(db.session, campaign, scope.cell_ids):
        abort(404)
    return campaign


def _progress(campaign: Campaign) -> Progress:
    return progress(db.session, campaign, current_scope().cell_ids)


def column_labels() -> list[tuple[str, str]]:
    return [("houses", _("Houses")), ("visited", _("Visited since the start")),
            ("visited_scanned", _("Visited, plate scanned")), ("tasks", _("Tasks")),
            ("tasks_open", _("Tasks open")), ("tasks_closed", _("Tasks closed")),
            ("changed", _("Registry changed")), ("no_change", _("Checked, no change")),
            ("not_found", _("Not found")), ("duplicate", _("Duplicate report"))]


@bp.route("")
@requires("view")
def index() -> Any:
    scope = current_scope()
    rows = [(c, progress(db.session, c, scope.cell_ids).total) for c in visible_campaigns(db.session, scope.cell_ids)]
    cycle = None
    if scope.may("campaigns"):
        from geo.cycles import period

        name, first, last = period(local_today(), _geo().collection_cycle)
        cycle = {"name": name, "starts_on": first, "ends_on": last}
    return render_template("campaigns/index.html", rows=rows, cycle=cycle, action=ActionForm(),
                           today=local_today(), band_for=band_for)


def _cell_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(select(Cell.id, Cell.code, Cell.name, Committee.name)
                              .join(Committee, Committee.id == Cell.committee_id)
                              .where(Cell.deleted_at.is_(None)).order_by(Cell.code))
    return [(str(cid), f"{code} {name} · {committee}") for cid, code, name, committee in rows]


@bp.route("/new", methods=["GET", "POST"])
@requires("campaigns")
def new() -> Any:
    form = CampaignForm(cell_choices=_cell_choices())
    if request.method == "GET":
        form.starts_on.data = local_today()
    problems: list[Any] = []
    if form.validate_on_submit():
        boundary = None
        cell_ids: set[Any] = set()
        if form.area_kind.data == "polygon":
            boundary, problems = read_polygon(form.boundary.data, _geo())
        else:

            cell_ids = {uuid.UUID(v) for v in form.cells.data or []}
        if not problems:
            try:
                campaign, opened = open_campaign(
                    db.session, name=form.name.data or "", note=form.note.data or "", starts_on=form.starts_on.data,
                    due_on=form.due_on.data, by_user_id=current_user.id, cell_ids=cell_ids, boundary=boundary)
            except CampaignError as err:
                db.session.rollback()
                flash(_message(err), "error")
            else:
                audit.record("campaign.open", "campaign", str(campaign.id), name=campaign.name,
                             starts_on=campaign.starts_on.isoformat(), due_on=campaign.due_on.isoformat(),
                             cells=sorted(c.code for c in campaign.cells), polygon=boundary is not None,
                             houses=opened.houses, tasks=opened.made, unplaced=opened.unplaced)
                db.session.commit()
                flash(_("Campaign opened: %(made)d tasks for %(houses)d houses.", made=opened.made,
                        houses=opened.houses), "ok")
                if opened.unplaced:
                    flash(_("%(n)d houses of the area are in no cell and got no task.", n=opened.unplaced), "error")
                return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    tiles = current_app.config.get("MAP_TILE_URL") or ""
    wgs84_tiles = (current_app.config.get("MAP_TILE_CRS") or "wgs84").lower() == "wgs84"
    return render_template("campaigns/new.html", form=form, problems=problems,
                           tile_url=tiles if wgs84_tiles else "",
                           tile_attribution=current_app.config.get("MAP_TILE_ATTRIBUTION") or ""), \
        (422 if request.method == "POST" else 200)


@bp.route("/cells.json")
@requires("campaigns")
def cells() -> Any:
    """Every cell's outline in WGS-84, to draw an area against (never shifted: what is drawn
    here is stored as it is)."""
    rows = db.session.execute(select(Cell.id, Cell.code, Cell.name, Cell.boundary)
                              .where(Cell.deleted_at.is_(None), Cell.boundary.is_not(None)).order_by(Cell.code))
    return jsonify(cells=[{"id": str(i), "code": code, "name": name, "boundary": b} for i, code, name, b in rows])


@bp.route("/<rowid:campaign_id>")
@requires("view")
def show(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    scope = current_scope()
    # The chosen cells of one's own scope by code; the others only counted.
    mine = [c for c in campaign.cells if scope.covers_cell(c.id)]
    return render_template("campaigns/show.html", campaign=campaign, report=_progress(campaign),
                           area_cells=mine, other_cells=len(campaign.cells) - len(mine),
                           columns=column_labels(), action=ActionForm(), band_for=band_for, bands=BANDS,
                           today=local_today())


@bp.route("/<rowid:campaign_id>/generate", methods=["POST"])
@requires("campaigns")
def generate(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        made = generate_tasks(db.session, campaign)
    except CampaignError as err:
        db.session.rollback()
        flash(_message(err), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    audit.record("campaign.generate", "campaign", str(campaign.id), name=campaign.name, houses=made.houses,
                 tasks=made.made, unplaced=made.unplaced)
    db.session.commit()
    flash(_("%(made)d new tasks (houses in the area: %(houses)d).", made=made.made, houses=made.houses), "ok")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


@bp.route("/<rowid:campaign_id>/close", methods=["POST"])
@requires("campaigns")
def close(campaign_id: int) -> Any:
    campaign = _campaign(campaign_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        frozen = close_campaign(db.session, campaign, current_user.id)
    except CampaignError as err:
        db.session.rollback()
        flash(_message(err), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    total = frozen.total
    audit.record("campaign.close", "campaign", str(campaign.id), name=campaign.name, **total.figures())
    db.session.commit()
    flash(_("Campaign closed; its figures are frozen. Its %(n)d open tasks stay with the coordinators.",
            n=total.tasks_open), "ok")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


def progress_table(cells: list[CellProgress], total: CellProgress) -> tuple[list[str], list[list[Any]]]:
    head = [_("Cell"), _("Name"), _("Committee"), *(label for _k, label in column_labels()), _("Share visited")]
    rows = []
    for c in [*cells, total]:
        code = c.cell_code if c.cell_id else (_("In no cell") if c is not total else _("Total"))
        rows.append([code, c.cell_name, c.committee_name, *(getattr(c, k) for k in FIGURES), round(c.ratio, 4)])
    return head, rows


@bp.route("/<rowid:campaign_id>/export.<fmt>")
@requires("view")
@writes_on_get
def export(campaign_id: int, fmt: str) -> Any:
    if fmt not in MIMETYPES:
        abort(404)
    campaign = _campaign(campaign_id)
    report = _progress(campaign)
    now = to_local(utcnow())
    state = "已冻结 frozen" if report.frozen else "实时 live"
    note = (f"Gridwalk 重点区域排查导出 campaign export · {current_user.username} ({current_user.role}) · "
            f"{now:%Y-%m-%d %H:%M} Asia/Shanghai · {campaign.name} ({state}) · {len(report.cells)} 个网格 cells")
    body = render(fmt, note, [(_("Progress"), progress_table(report.cells, report.total))])
    audit.record("export_campaign", "campaign", str(campaign.id), fmt=fmt, name=campaign.name,
                 cells=len(report.cells), frozen=report.frozen, note=note)
    db.session.commit()
    g.no_store = True
    return send_file(io.BytesIO(body), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"gridwalk-campaign-{campaign.id}-{now:%Y%m%d-%H%M}.{fmt}", max_age=0)


@bp.route("/cycle/run", methods=["POST"])
@requires("campaigns")
def run_cycle() -> Any:
    """Open the current collection cycle (if nobody has looked at it yet) and make its tasks:
    permits due and every house not yet visited in it, whatever the day (the daily cron does
    the latter only late in the cycle)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    cfg = current_app.config
    settings, today = TaskSettings.from_config(cfg), local_today()
    cycle = current_cycle(db.session, today, settings=_geo())
    permits = permits_due(db.session, settings, today, rules=RuleSettings.from_config(cfg))
    unvisited = unvisited_late(db.session, settings, today, geo=_geo(), now=True)
    filled = fill_defaults(db.session, settings)
    audit.record("generate_tasks", "task", None, cycle=cycle.name, permits=permits, unvisited=unvisited,
                 filled=filled, by_console=True)
    db.session.commit()
    flash(_("Cycle %(name)s: %(unvisited)d tasks for unvisited houses, %(permits)d for permits.",
            name=cycle.name, unvisited=unvisited, permits=permits), "ok")
    return redirect(url_for("campaigns.index"))
