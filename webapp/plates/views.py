"""Plate sheets and QR images, for the roles that may edit, within their cells."""
from __future__ import annotations

import hashlib
import itertools
import uuid
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp import audit
from webapp.access import require_cell, requires
from webapp.auth.forms import EmptyForm
from webapp.extensions import db
from webapp.models import Cell, House
from webapp.plates import bp
from webapp.registry.plates import assign_plates, current_plate, local_only, plate_url, qr_svg, spaced

_ADDRESS_ORDER = (House.road, House.number, House.building, House.unit, House.floor, House.room)


def _live_house(house_id: uuid.UUID) -> House:
    house = db.session.scalar(
        select(House).where(House.id == house_id, House.deleted_at.is_(None))
        .options(selectinload(House.codes), selectinload(House.cell).selectinload(Cell.committee))
    )
    if house is None:
        abort(404)
    require_cell(house.cell_id)
    return house


def _live_cell(cell_id: uuid.UUID) -> Cell:
    require_cell(cell_id)
    cell = db.session.get(Cell, cell_id)
    if cell is None or cell.deleted_at is not None:
        abort(404)
    return cell


def _building_args() -> tuple[str, str, str | None] | None:
    """The building asked for by query string (road, number, building), or None for all."""
    road, number = request.args.get("road"), request.args.get("number")
    if road is None or number is None:
        return None
    return road, number, request.args.get("building") or None


def building_key(house: House) -> tuple[str, str, str | None]:
    return house.road, house.number, house.building


@bp.app_template_filter()
def building_label(key: tuple[str, str, str | None]) -> str:
    """"谷阳北路88号3号楼", written as House.address writes the same parts."""
    road, number, building = key
    label = road + (f"{number}号" if number.isdigit() else number)
    if building:
        label += f"{building}号楼" if building.isdigit() else building
    return label


bp.add_app_template_global(current_plate, "current_plate")


@bp.app_template_global()
def local_base_url() -> str | None:
    """PUBLIC_BASE_URL when it names this machine only (pages that print a QR warn of it)."""
    base = str(current_app.config["PUBLIC_BASE_URL"])
    return base if local_only(base) else None


@bp.app_template_global()
def plate_link(house: House) -> str:
    """The URL a plate's QR carries (for showing it under the QR on screen)."""
    plate = current_plate(house)
    return plate_url(current_app.config["PUBLIC_BASE_URL"], plate.code) if plate else ""


@bp.app_template_filter()
def spaced_code(code: str | None) -> str:
    return spaced(code or "")


@bp.route("/plates/houses/<uuid:house_id>")
@requires("edit")
def plate(house_id: uuid.UUID) -> Any:
    house = _live_house(house_id)
    return render_template("plates/plate.html", house=house, plate=current_plate(house), form=EmptyForm())


@bp.route("/plates/houses/<uuid:house_id>/qr.svg")
@requires("edit")
def qr(house_id: uuid.UUID) -> Any:
    house = _live_house(house_id)
    plate_ = current_plate(house)
    if plate_ is None:
        abort(404)
    url = plate_url(current_app.config["PUBLIC_BASE_URL"], plate_.code)
    response = current_app.response_class(qr_svg(url), mimetype="image/svg+xml")
    # Re-validated each time (a re-plate changes the code behind this URL), 304 when unchanged.
    response.set_etag(hashlib.sha256(url.encode()).hexdigest()[:32])
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


@bp.route("/plates/cells/<uuid:cell_id>")
@requires("edit")
def sheet(cell_id: uuid.UUID) -> Any:
    cell = _live_cell(cell_id)
    query = (
        select(House).where(House.cell_id == cell_id, House.deleted_at.is_(None))
        .order_by(*_ADDRESS_ORDER, House.id).options(selectinload(House.codes))
    )
    building = _building_args()
    if building is not None:
        road, number, name = building
        query = query.where(House.road == road, House.number == number,
                            House.building.is_(None) if name is None else House.building == name)
    houses = db.session.scalars(query).all()
    if building is not None and not houses:
        abort(404)
    groups = [(key, list(members)) for key, members in itertools.groupby(houses, key=building_key)]
    plated_ids = {h.id for h in houses if current_plate(h) is not None}
    return render_template("plates/sheet.html", cell=cell, groups=groups, building=building,
                           plated_ids=plated_ids, unplated=len(houses) - len(plated_ids), form=EmptyForm())


@bp.route("/plates/cells/<uuid:cell_id>/assign", methods=["POST"])
@requires("edit")
def assign(cell_id: uuid.UUID) -> Any:
    _live_cell(cell_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    assigned = assign_plates(db.session, House.cell_id == cell_id, by_user_id=current_user.id)
    if assigned:
        audit.record("assign_plates", "cell", cell_id, count=len(assigned))
    db.session.commit()
    flash(ngettext("%(num)d plate code assigned.", "%(num)d plate codes assigned.", len(assigned)), "ok")
    target = request.form.get("next", "")
    # Only our own plate pages: never an open redirect.
    if not target.startswith("/plates/"):
        target = url_for("plates.sheet", cell_id=cell_id)
    return redirect(target)
