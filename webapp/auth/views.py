from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from webapp import audit
from webapp.auth import bp, throttle
from webapp.auth.forms import EmptyForm, LoginForm
from webapp.auth.passwords import check_login, is_locked
from webapp.extensions import db
from webapp.models import User


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
    if form.validate_on_submit():
        wait = throttle.retry_after(db.session)
        if wait:
            audit.record("login_throttled", "user", None, username=form.username.data[:64])
            db.session.commit()
            minutes = max(1, -(-wait // 60))  # rounded up: never sooner than the refusal ends
            flash(ngettext("Too many failed logins from this address. Try again in %(num)d minute.",
                           "Too many failed logins from this address. Try again in %(num)d minutes.",
                           minutes), "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        ok = check_login(user, form.password.data)
        if ok and user is not None:
            session.clear()
            login_user(user)
            audit.record("login", "user", user.id)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        locked = user is not None and is_locked(user)
        throttle.count_failure(db.session)
        audit.record("login_failed", "user", user.id if user else None,
                     username=form.username.data[:64], locked=locked)
        db.session.commit()
        if locked:
            flash(_("Too many failed attempts: this account is locked for a while."), "error")
        else:
            flash(_("Wrong username or password."), "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    if EmptyForm().validate_on_submit():
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
