"""/audit: filters, pages, exports (audited), and a person's access report (PIPL art. 45:
who viewed or changed their record), printable. Thin: parse, authorise, ask
webapp.oversight.auditlog and webapp.registry.versions, render."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from config import secret_keys
from webapp import audit
from webapp.access import current_scope, requires
from webapp.auditlog import bp
from webapp.base import sealed_query
from webapp.console.versions import door_label
from webapp.base.dbsetup import writes_on_get
from webapp.extensions import db
from webapp.models import HouseCode, Person, User
from webapp.auditlog.labels import action_label, object_label
from webapp.oversight.auditlog import AuditFilters, actions, detail_text, entries, page
from webapp.registry import privacy, versions
from webapp.reports.common import send_export
from webapp.templating import local_dt
from webapp.base.timeutil import utcnow
from webapp.query_args import page_number
from webapp.validation import ranges

PAGE_SIZE = 100
EXPORT_MAX = 100_000  # rows in one file; narrow the filters for more


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _date(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400)
    # "From 0001-01-01" or "to 9999-12-31" means no bound: held to the days a record can
    # carry (ranges.DAYS), since the calendar's own ends overflowed into a 500.
    return min(max(day, ranges.DAYS[0]), ranges.DAYS[1])


FILTERS = ("user", "person", "house", "unit", "action", "since", "until")
_DOOR = "audit"


class _Expired(Exception):
    """A sealed person filter that no longer opens (old, altered, another account's)."""


def _keys() -> tuple[str, ...]:
    return secret_keys(current_app.config)


def _person_typed() -> str:
    """The person filter: `ps`, an ID number sealed to the user by the form's post, or `person`,
    a record id in clear (the rows' links) or what an older address carried."""
    if "ps" not in request.args:
        return request.args.get("person", "")
    ttl = int(current_app.permanent_session_lifetime.total_seconds())
    opened = sealed_query.open_fields(_keys(), current_user.id, _DOOR, request.args["ps"], ttl)
    if opened is None:
        raise _Expired()
    return opened.get("person", "")


def _filters() -> tuple[AuditFilters, dict[str, str], dict[str, str]]:
    """The filters asked for; a user by username, a person by record id or ID number, a house
    by record id or plate code. Something that names nobody filters to nothing (404). Also the
    arguments that repeat them in an address (a number sealed), and the values typed."""
    a = request.args
    f = AuditFilters(action=a.get("action") or None, since=_date(a.get("since")), until=_date(a.get("until")))
    person = _person_typed()
    if a.get("user"):
        f.user_id = db.session.scalar(select(User.id).where(func.lower(User.username) == a["user"].strip().lower()))
        if f.user_id is None:
            abort(404)
    if person:
        raw = person.strip()
        f.person_id = _uuid(raw) or db.session.scalar(
            select(Person.id).where(Person.id_number == raw.upper()).order_by(Person.deleted_at.is_not(None)).limit(1))
        if f.person_id is None:
            abort(404)
    if a.get("house"):
        raw = a["house"].strip()
        f.house_id = _uuid(raw) or db.session.scalar(select(HouseCode.house_id).where(HouseCode.code == raw.upper()))
        if f.house_id is None:
            abort(404)
    if a.get("unit"):
        f.unit_id = _uuid(a["unit"].strip())
        if f.unit_id is None:
            abort(404)
    args = {k: v for k, v in a.items() if k in (*FILTERS, "ps") and v}
    return f, args, {**args, "person": person}


def _sealed_address(form: dict[str, str]) -> str:
    """The filters posted, as the GET that shows them: a person named other than by record id
    (an ID number) sealed to this user, so it is in no address (history, referrer, logs)."""
    args = {k: v.strip()[:64] for k in FILTERS if (v := form.get(k, "")).strip()}
    person = args.pop("person", "")
    if person and _uuid(person) is None:
        args["ps"] = sealed_query.seal_fields(_keys(), current_user.id, _DOOR, {"person": person})
    elif person:
        args["person"] = person
    return url_for("audit.index", **args)


@bp.route("", methods=["GET", "POST"])
@requires("see_audit")
@writes_on_get
def index() -> Any:
    if request.method == "POST":
        # The filter form posts (its CSRF token checked for every POST, CSRFProtect); the answer
        # is a 303 to the GET, so Back, reload and the pages' links repeat a GET.
        return redirect(_sealed_address(request.form.to_dict()), 303)
    try:
        f, args, shown = _filters()
    except _Expired:
        flash(_("This filter has expired or was made in another account: type the ID number again."), "error")
        rest = {k: v for k, v in request.args.items() if k in FILTERS and k != "person" and v}
        return redirect(url_for("audit.index", **rest), 303)
    number = page_number()
    rows, total = page(db.session, f, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if f.any_record():
        # Who looked at whom is itself a look at a person's record (PIPL art. 56).
        audit.record("view_audit", None, None, filters=f.describe())
        db.session.commit()
    g.no_store = True
    return render_template("auditlog/index.html", rows=rows, total=total, page=number,
                           pages=max(1, -(-total // PAGE_SIZE)), args=args, shown=shown,
                           actions=actions(db.session), detail_text=detail_text, export_max=EXPORT_MAX,
                           action_label=action_label, object_label=object_label)


def _table(rows: list[Any]) -> tuple[list[str], list[list[Any]]]:
    head = [_("When"), _("Login"), _("Name"), _("Role"), _("Action"), _("Record"), _("Record id"), _("Address"),
            _("Details")]
    return head, [[local_dt(e.at, "%Y-%m-%d %H:%M:%S"), u.username if u else "", u.display_name if u else "",
                   u.role if u else "", e.action, e.object_type or "", e.object_id or "", e.ip or "",
                   detail_text(e.detail, 2000)] for e, u in rows]


@bp.route("/export.<fmt>")
@requires("see_audit")
@writes_on_get
def export(fmt: str) -> Any:
    try:
        f, _args, _shown = _filters()
    except _Expired:
        abort(404)  # as a filter that names nobody: never the whole log instead
    rows = list(db.session.execute(entries(f).limit(EXPORT_MAX)))
    return send_export(fmt, _("Audit log"), "audit", [(_("Audit log"), _table(rows))], action="export_audit",
                       filters=", ".join(f"{k}={v}" for k, v in f.describe().items()) or None)


@bp.route("/persons/<uuid:person_id>")
@requires("see_audit")
@writes_on_get
def person_report(person_id: uuid.UUID) -> Any:
    """Who viewed or changed this person: every audited look and every change, printable."""
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404)
    looks = list(db.session.execute(entries(AuditFilters(person_id=person_id)).limit(EXPORT_MAX)))
    changes = versions.changed_by(db.session, "person", person_id)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({c[1] for c in changes} - {None})))}
    audit.record("access_report", "person", person_id, looks=len(looks), changes=len(changes))
    db.session.commit()
    g.no_store = True
    role = current_scope().role
    return render_template("auditlog/person.html", action_label=action_label, person=person, looks=looks, changes=changes, users=users,
                           id_number=privacy.seen(role, "person", "id_number", person.id_number),
                           detail_text=detail_text, made_at=utcnow(), door_label=door_label)
