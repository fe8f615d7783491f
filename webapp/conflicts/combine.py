"""Combining two persons or two houses that are one (sync/combine.py), from the queue or a
duplicate conflict. Stored names keep the older word: the audit action `merge_records`, the
change log's door `merge` and a conflict's resolution `{"action": "merge"}`."""
from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from config import secret_keys
from sync import combine
from sync.resolve import find_visible
from sync.resolve_rules import ResolveError
from webapp import audit
from webapp.access import current_scope, requires
from webapp.base import sealed_query
from webapp.conflicts import bp
from webapp.conflicts.forms import CombineForm
from webapp.extensions import db
from webapp.models import House, HouseCode, Person, Residency
from webapp.models.base import Synced
from webapp.registry.rules.tasks import CONFLICT_KINDS
from webapp.registry.scope import Scope
from webapp.registry.search import whole_id_number
from webapp.validation import mask_numbers
from webapp.templating import bilingual
from webapp.base.timeutil import utcnow


# The conflicts a combine decides: the same person or house twice, however it was found.
SETTLED_BY_COMBINE = frozenset({"duplicate_person", "duplicate_house", "identity_elsewhere", "address_elsewhere",
                                *CONFLICT_KINDS.values()})


def lookup(scope: Scope, record_type: str, text: str | None) -> Synced | None:
    """A live record in the user's area by id, ID number (persons: as the role may match one) or
    house code (houses)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        by: Any = ("id", uuid.UUID(text))
    except ValueError:
        by = ("key", text.upper())
    if record_type == "person":
        if by[0] == "id":
            return db.session.scalar(select(Person).where(Person.id == by[1], Person.deleted_at.is_(None),
                                                          scope.person_clause()))
        # As the search reads a number the role types: by what it sees of numbers (a masked
        # role's right and wrong guesses find the same records), and only when that is one.
        found = db.session.scalars(select(Person).where(
            whole_id_number(scope.role, by[1]), Person.claims_id_of.is_(None), Person.deleted_at.is_(None),
            scope.person_clause()).limit(2)).all()
        return found[0] if len(found) == 1 else None
    match = House.id == by[1] if by[0] == "id" else House.id.in_(
        select(HouseCode.house_id).where(HouseCode.code == by[1], HouseCode.deleted_at.is_(None)))
    return db.session.scalar(select(House).where(match, House.deleted_at.is_(None), scope.house_clause()))


def _weight(record_type: str, record: Synced) -> int:
    """What hangs off a record, shown so the user keeps the fuller one."""
    if record_type == "person":
        return db.session.scalar(select(func.count()).select_from(Residency).where(
            Residency.person_id == record.id, Residency.deleted_at.is_(None))) or 0
    return db.session.scalar(select(func.count()).select_from(Residency).where(
        Residency.house_id == record.id, Residency.deleted_at.is_(None))) or 0


def _page(form: CombineForm, status: int = 200) -> Any:
    g.no_store = True
    scope = current_scope()
    kind = form.record_type.data or "person"
    pair = {name: lookup(scope, kind, getattr(form, name).data) for name in ("survivor", "loser")}
    weights = {name: _weight(kind, r) for name, r in pair.items() if r is not None}
    if kind == "person" and any(pair.values()):
        # Finding a person by a full ID number is a search (a masked role learns whose it is):
        # audited as one, the typed text masked.
        audit.record("search", "person", None, door="merge", persons=[str(r.id) for r in pair.values() if r],
                     q=" / ".join(mask_numbers(getattr(form, n).data or "") for n in pair))
        db.session.commit()
    return render_template("conflicts/combine.html", form=form, pair=pair, weights=weights, kind=kind,
                           ), status


@bp.route("/conflicts/merge", methods=["GET", "POST"])
def merge() -> Any:
    """The page's old address: 308 keeps a POST a POST (a form open since before the rename)."""
    query = request.query_string.decode()
    return redirect(url_for("conflicts.combine") + (f"?{query}" if query else ""), 308)


# The form's fields a comparison carries, each held to the form's own length.
_SHOWN = ("record_type", "survivor", "loser", "conflict_id")
_DOOR = "combine"


def _keys() -> tuple[str, ...]:
    return secret_keys(current_app.config)


def _show(form: CombineForm) -> Any:
    """"Show both" posts, so ID numbers typed are in no address (history, referrer, logs): a 303
    to a GET carrying the fields sealed to this user (webapp/base/sealed_query.py), so Back and
    reload repeat a GET."""
    fields = {name: (getattr(form, name).data or "").strip()[:64] for name in _SHOWN}
    fields = {name: value for name, value in fields.items() if value}
    return redirect(url_for("conflicts.combine", s=sealed_query.seal_fields(
        _keys(), current_user.id, _DOOR, fields)), 303)


def _sealed_form(token: str) -> CombineForm:
    ttl = int(current_app.permanent_session_lifetime.total_seconds())
    fields = sealed_query.open_fields(_keys(), current_user.id, _DOOR, token, ttl)
    if fields is None:
        flash(_("This comparison has expired or was made in another account: type the numbers again."), "error")
    return CombineForm(formdata=MultiDict(fields) if fields else None)


@bp.route("/conflicts/combine", methods=["GET", "POST"], endpoint="combine")
@requires("resolve")
def combine_records() -> Any:
    if request.method == "GET":
        if "s" in request.args:
            return _page(_sealed_form(request.args["s"]))
        # Plain arguments are still read: the conflict page's links name records by id.
        return _page(CombineForm(formdata=request.args or None))
    form = CombineForm()
    if "show" in request.form:  # the CSRF token was checked for every POST (CSRFProtect)
        return _show(form)
    if not form.validate_on_submit():
        return _page(form, 422)
    scope = current_scope()
    kind = form.record_type.data
    records = {name: lookup(scope, kind, getattr(form, name).data) for name in ("survivor", "loser")}
    missing = [name for name, record in records.items() if record is None]
    for name in missing:
        getattr(form, name).errors = [_("No such record in your area.")]
    if missing:
        return _page(form, 404)  # as elsewhere: out of the area looks like not there
    survivor, loser = records["survivor"], records["loser"]
    assert survivor is not None and loser is not None
    try:
        result = combine.combine(db.session, kind, survivor, loser, current_user.id)
    except ResolveError as error:
        db.session.rollback()
        for item in error.errors:
            field = getattr(form, item.field, form.loser)
            field.errors = [*field.errors, bilingual(item)]
        return _page(form, 422)
    _close_conflict(form.conflict_id.data, kind, result)
    audit.record("merge_records", kind, result.survivor_id, merged=str(result.loser_id), moved=result.moved)
    db.session.commit()
    flash(_("Merged: the second record is now part of the first."), "ok")
    endpoint, key = ("console.person", "person_id") if kind == "person" else ("console.house", "house_id")
    return redirect(url_for(endpoint, **{key: result.survivor_id}))


def _close_conflict(raw_id: str | None, kind: str, result: combine.Combined) -> None:
    """A combine made from a duplicate conflict settles that conflict: one of the kinds a
    combine answers, naming one of the two records. Any other conflict named in the form
    (a field conflict elsewhere was closed, and the phone's values dropped undecided) stays."""
    try:
        conflict_id = uuid.UUID(raw_id or "")
    except ValueError:
        return
    conflict = find_visible(db.session, current_scope(), conflict_id)
    if conflict is None or conflict.resolved_at is not None:
        return
    detail = conflict.detail or {}
    named = {str(conflict.record_id), str(detail.get("other")), str(detail.get("merged_into")),
             *(str(i) for i in detail.get("ids") or [])}
    if (conflict.kind not in SETTLED_BY_COMBINE or conflict.record_type != kind
            or not named & {str(result.survivor_id), str(result.loser_id)}):
        return
    conflict.resolved_at = utcnow()
    conflict.resolved_by_id = current_user.id
    conflict.resolution = {"action": "merge", "target_id": str(result.survivor_id), "merged": str(result.loser_id)}
    audit.record("resolve_conflict", "conflict", conflict.id, kind=conflict.kind, decision="merge",
                 record_id=str(result.survivor_id))
