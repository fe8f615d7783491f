"""Devices: list, revoke, rescue import. Thin: parse, authorise, call sync/, render."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from config import secret_keys
from sync import devices as device_service
from sync import fleet, sealed
from geo.assign import CellFinder
from sync.rescue import RescueInvalid, import_file, read_file
from webapp import audit
from webapp.access import current_scope, requires
from webapp.conflicts.display import record_label
from webapp.devices import bp
from webapp.devices.forms import RescueForm, RevokeForm
from webapp.devices.labels import outcome_label
from webapp.extensions import db
from webapp.registry import changelog
from webapp.templating import lang
from webapp.base.timeutil import utcnow


@bp.route("/devices")
@requires("devices")
def index() -> Any:
    days = current_app.config["STALE_DEVICE_DAYS"]
    only_stale = request.args.get("stale") == "1"
    now = utcnow()
    devices = fleet.visible_devices(db.session, current_scope(), stale_days=days if only_stale else None, now=now)
    stale = {d.id for d in devices if fleet.is_stale(d, days, now)}
    return render_template("devices/index.html", devices=devices, stale=stale, days=days,
                           only_stale=only_stale, form=RevokeForm())


@bp.route("/devices/<uuid:device_id>/revoke", methods=["POST"])
@requires("devices")
def revoke(device_id: uuid.UUID) -> Any:
    device = fleet.find_visible(db.session, current_scope(), device_id)
    if device is None:
        abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400)
    if device.revoked_at is None:
        device_service.revoke(db.session, device, current_user.id)
        audit.record("revoke_device", "device", device.id, user_id=device.user_id, pending=device.pending)
        db.session.commit()
        flash(_("Device revoked: it can no longer sync. Its unsynced work can be imported from the file it exports."), "ok")
    return redirect(url_for("devices.index"))


@bp.route("/devices/rescue", methods=["GET", "POST"])
@requires("rescue")
def rescue() -> Any:
    form = RescueForm()
    if request.method == "GET":
        return render_template("devices/rescue.html", form=form, result=None)
    if not form.validate_on_submit():
        return render_template("devices/rescue.html", form=form, result=None), 422
    try:
        keys = [sealed.server_key(secret) for secret in secret_keys(current_app.config)]
        rescued = read_file(form.file.data.read(), keys)
        result = import_file(db.session, rescued, CellFinder(db.session))
    except RescueInvalid as invalid:
        db.session.rollback()
        form.file.errors = [invalid.zh if lang() == "zh" else invalid.en]
        return render_template("devices/rescue.html", form=form, result=None), 422
    changelog.set_door(db.session, "rescue", result.device.id)  # the history names the phone
    audit.record("rescue_import", "device", result.device.id, file=form.file.data.filename,
                 mutations=len(result.outcomes), outcomes=result.counts(), revoked=result.device.revoked_at is not None,
                 sealed=rescued.sealed)
    db.session.commit()
    return render_template("devices/rescue.html", form=RescueForm(), result=result, record_label=record_label,
                           outcome_label=outcome_label)
