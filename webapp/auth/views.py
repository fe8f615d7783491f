from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from webapp import audit
from webapp.auth import bp, delays, sessions, throttle, typed_name
from webapp.auth.forms import EmptyForm, LoginForm
from webapp.auth.passwords import check_login
from webapp.extensions import db
from webapp.models import User
from webapp.oversight.accounts import end_sessions
from webapp.base.timeutil import utcnow


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our login page.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("console.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("console.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    username = form.username.data.strip()
    wait = throttle.retry_after(db.session)
    if wait:
        audit.record("login_throttled", "user", None, username=typed_name.for_the_log(db.session, username))
        db.session.commit()
        flash(ngettext("Too many failed logins from this address. Try again in %(num)d minute.",
                       "Too many failed logins from this address. Try again in %(num)d minutes.",
                       _minutes(wait)), "error")
        return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
    wait = delays.retry_after(db.session, username)
    if wait:
        # The same for every username, existing or not: only this network's failures count.
        flash(_("Wrong username or password."), "error")
        flash(ngettext("Wait %(num)d second before trying again.", "Wait %(num)d seconds before trying again.",
                       wait), "error")
        return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
    user = db.session.scalar(select(User).where(User.username == username))
    if check_login(user, form.password.data) and user is not None:
        delays.clear(db.session, username)
        session.clear()
        login_user(user)
        sessions.stamp(user)
        user.last_login_at = utcnow()  # the user list's "last login"
        audit.record("login", "user", user.id)
        db.session.commit()
        if user.must_change_password:
            return redirect(url_for("account.index"))
        return redirect(_safe_next(request.args.get("next")))
    throttle.count_failure(db.session)
    delays.count_failure(db.session, username)
    # Whether the account exists, is disabled or had the wrong password stays in the audit
    # log, never in the answer.
    audit.record("login_failed", "user", user.id if user else None, username=typed_name.for_the_log(db.session, username, user is not None),
                 inactive=user is not None and not user.active)
    db.session.commit()
    flash(_("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form), 401


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))  # rounded up: never sooner than the refusal ends


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    if EmptyForm().validate_on_submit():
        # Every session of the user ends, not only this cookie: a copy saved before is dead too.
        end_sessions(db.session, current_user._get_current_object())
        audit.record("logout", "user", current_user.id)
        db.session.commit()
        logout_user()
        session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str) -> Any:
    if code in ("zh_CN", "en") and EmptyForm().validate_on_submit():
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))
