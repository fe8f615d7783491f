"""/audit: filters, pages, exports (audited), and a person's access report (PIPL art. 45:
who viewed or changed their record), printable. Thin: parse, authorise, ask
webapp.oversight.auditlog and webapp.registry.versions, render."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import abort, g, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp import audit
from webapp.access import current_scope, requires
from webapp.auditlog import bp
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


def _filters() -> tuple[AuditFilters, dict[str, str]]:
    """The filters asked for; a user by username, a person by record id or ID number, a house
    by record id or plate code. Something that names nobody filters to nothing (404)."""
    a = request.args
    f = AuditFilters(action=a.get("action") or None, since=_date(a.get("since")), until=_date(a.get("until")))
    if a.get("user"):
        f.user_id = db.session.scalar(select(User.id).where(func.lower(User.username) == a["user"].strip().lower()))
        if f.user_id is None:
            abort(404)
    if a.get("person"):
        raw = a["person"].strip()
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
    args = {k: v for k, v in a.items() if k in ("user", "person", "house", "unit", "action", "since", "until") and v}
    return f, args


@bp.route("")
@requires("see_audit")
@writes_on_get
def index() -> Any:
    f, args = _filters()
    number = page_number()
    rows, total = page(db.session, f, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if f.any_record():
        # Who looked at whom is itself a look at a person's record (PIPL art. 56).
        audit.record("view_audit", None, None, filters=f.describe())
        db.session.commit()
    g.no_store = True
    return render_template("auditlog/index.html", rows=rows, total=total, page=number,
                           pages=max(1, -(-total // PAGE_SIZE)), args=args, actions=actions(db.session),
                           detail_text=detail_text, export_max=EXPORT_MAX, action_label=action_label,
                           object_label=object_label)


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
    f, _args = _filters()
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
