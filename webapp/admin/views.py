"""The centre resets a login's password: a temporary one, shown once, to be changed at the
next login. Thin: authorise, call webapp.registry.accounts, audit, render."""
from __future__ import annotations

from typing import Any

from flask import abort, g, render_template
from flask_login import current_user

from webapp import audit
from webapp.access import requires
from webapp.admin import bp
from webapp.auth.forms import EmptyForm
from webapp.auth.passwords import hash_password
from webapp.extensions import db
from webapp.models import User
from webapp.registry.accounts import set_password, temporary_password


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if user.id == current_user.id:
        abort(404)  # one's own password is changed on /account, knowing the current one
    return user


@bp.route("/users/<int:user_id>/reset-password", methods=["GET"])
@requires("admin")
def confirm_reset(user_id: int) -> Any:
    return render_template("admin/reset_password.html", user=_user(user_id), form=EmptyForm(), password=None)


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@requires("admin")
def reset_password(user_id: int) -> Any:
    user = _user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    password = temporary_password()
    set_password(db.session, user, hash_password(password), temporary=True)  # ends the user's sessions
    audit.record("password_reset", "user", user.id, username=user.username)  # never the password
    db.session.commit()
    g.no_store = True  # the temporary password is on this page only, once
    return render_template("admin/reset_password.html", user=user, form=None, password=password)
