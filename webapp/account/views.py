"""/account: every logged-in user's own password, sessions and phones. Thin: parse, check,
call webapp.oversight.accounts or sync.devices, render."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash

from sync import devices
from webapp import audit
from webapp.account import bp
from webapp.account.forms import ChangePasswordForm
from webapp.auth import delays, sessions, throttle
from webapp.auth.forms import EmptyForm
from webapp.auth.passwords import hash_password, new_password_weaknesses
from webapp.extensions import db
from webapp.models import Device, User
from webapp.oversight.accounts import end_sessions, set_password
from webapp.templating import lang
from webapp.base.timeutil import utcnow

# What a user with a temporary password may still reach: this page, logging out, the
# language switch, and what is not the console (static files, the phone API, public pages).
_OPEN_ENDPOINTS = {"static", "auth.login", "auth.logout", "auth.set_language"}
_OPEN_BLUEPRINTS = {"account", "api", "fieldapp", "vendor", "public"}


@bp.before_app_request
def _temporary_password_first() -> Any:
    """After the centre's reset, the user chooses their own password before anything else."""
    endpoint = request.endpoint or ""
    if endpoint in _OPEN_ENDPOINTS or request.blueprint in _OPEN_BLUEPRINTS or not endpoint:
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("account.index"))
    return None


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _page(form: ChangePasswordForm, status: int = 200) -> Any:
    g.no_store = True
    idle_days = current_app.config["DEVICE_IDLE_DAYS"]
    mine = db.session.scalars(select(Device).where(Device.user_id == current_user.id)
                              .order_by(Device.revoked_at.is_not(None), Device.created_at.desc())).all()
    now = utcnow()
    states = {d.id: "revoked" if d.revoked_at else "expired" if devices.is_expired(d, idle_days, now) else "live"
              for d in mine}
    return render_template("account/index.html", form=form, devices=mine, states=states, idle_days=idle_days,
                           per_user=current_app.config["DEVICES_PER_USER"]), status


@bp.route("/account")
@login_required
def index() -> Any:
    return _page(ChangePasswordForm())


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password() -> Any:
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    user = _me()
    # The current password is guessed like a login (a borrowed session must not try it freely).
    wait = throttle.retry_after(db.session) or delays.retry_after(db.session, user.username)
    if wait:
        form.current.errors.append(ngettext("Wait %(num)d second before trying again.",
                                            "Wait %(num)d seconds before trying again.", wait))
        return _page(form, 429)
    if not check_password_hash(user.password_hash, form.current.data):
        throttle.count_failure(db.session)
        delays.count_failure(db.session, user.username)
        audit.record("password_change_failed", "user", user.id)
        db.session.commit()
        form.current.errors.append(_("The current password is wrong."))
        return _page(form, 422)
    if form.new.data == form.current.data:
        problems = [_("Choose a password different from the current one.")]
    else:
        problems = [w.text(lang()) for w in new_password_weaknesses(form.new.data, user.username)]
    if problems:
        form.new.errors.append(" ".join(problems))
        return _page(form, 422)
    delays.clear(db.session, user.username)
    was_temporary = user.must_change_password
    set_password(db.session, user, hash_password(form.new.data))
    sessions.stamp(user)  # this browser stays logged in; every other session has ended
    audit.record("password_changed", "user", user.id, was_temporary=was_temporary)
    db.session.commit()
    flash(_("Password changed. Your sessions on other computers have ended."), "ok")
    return redirect(url_for("console.home") if was_temporary else url_for("account.index"))


@bp.route("/account/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere() -> Any:
    if not EmptyForm().validate_on_submit():
        abort(400)
    user = _me()
    end_sessions(db.session, user)
    audit.record("logout_everywhere", "user", user.id)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You were logged out on every computer. Phones keep their login: end them on this page."), "ok")
    return redirect(url_for("auth.login"))


@bp.route("/account/devices/<uuid:device_id>/end", methods=["POST"])
@login_required
def end_device(device_id: uuid.UUID) -> Any:
    device = db.session.get(Device, device_id)
    if device is None or device.user_id != current_user.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if device.revoked_at is None:
        devices.revoke(db.session, device, current_user.id)
        audit.record("revoke_device", "device", device.id, user_id=device.user_id, pending=device.pending, own=True)
        db.session.commit()
        flash(_("That phone's login has ended: it can no longer sync. Work it has not sent can be handed over "
                "as an exported file."), "ok")
    return redirect(url_for("account.index"))
