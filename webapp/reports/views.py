"""The daily lists, their exports, raising tasks from findings, and the committee's check of
a legal stable residence. Thin: parse, scope, ask webapp.registry, render."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp import audit
from webapp.access import current_scope, require_cell, requires
from webapp.base.dbsetup import writes_on_get
from webapp.extensions import db
from webapp.models import House, ResidenceCheck
from webapp.registry.reports import LISTS, Ask, run_list
from webapp.registry.rules import RULES, Context, raise_tasks, residence_verdict
from webapp.registry.rules.settings import SETTING_WORDS, setting_value
from webapp.registry.rules.tasks import CONFLICT_KINDS, TASK_RULES
from webapp.reports import bp
from webapp.reports.common import audit_shown, filters, page_of, row_table, rows, rule_settings, send_export
from webapp.reports.forms import RaiseTasksForm, ResidenceCheckForm
from webapp.templating import lang
from webapp.base.timeutil import local_today, local_week_start

# Lists whose findings can be raised as tasks (conflicts for duplicates, tasks for the cell).
RAISABLE = ("duplicates", *TASK_RULES)


def _ask(cell_ids: frozenset[uuid.UUID] | None) -> Ask:
    rule = request.args.get("rule") or None
    if rule is not None and rule not in RULES:
        abort(404)
    kind = request.args.get("kind") or None
    if kind is not None and (rule is None or kind not in RULES[rule].kinds):
        abort(404)
    return Ask(db.session, local_today(), local_week_start(), rule_settings(), cell_ids, kind=kind, rule=rule)


def _title(name: str) -> str:
    zh, en, _lister = LISTS[name]
    return zh if lang() == "zh" else en


@bp.route("")
@login_required
def index() -> Any:
    f = filters()
    settings = rule_settings()

    def read(name: str) -> tuple[str, str]:
        """A setting a rule reads: what it means, with its value (its name is for the centre)."""
        zh, en = SETTING_WORDS.get(name, (name, name))
        return (zh if lang() == "zh" else en), setting_value(settings, name, lang())

    return render_template("reports/index.html", lists=[(n, _title(n)) for n in LISTS], filters=f,
                           rules=RULES.values(), week_start=local_week_start(), raisable=RAISABLE,
                           today_year=local_today().year, read=read)


@bp.route("/lists/<name>")
@login_required
@writes_on_get
def show(name: str) -> Any:
    if name not in LISTS:
        abort(404)
    f = filters()
    ask = _ask(f.cell_ids)
    # Every rule over a whole district at once is the export's job; the page asks for one.
    found = [] if name == "flags" and ask.rule is None else run_list(name, ask)
    counts: dict[str, int] = {}
    for fl in found:
        counts[fl.kind] = counts.get(fl.kind, 0) + 1
    shown, page, pages = page_of(found)
    items = rows(shown)
    if items:
        audit_shown("view_report", items, report=name, rule=ask.rule, kind=ask.kind, page=page, filters=f.describe())
    return render_template(
        "reports/list.html", name=name, title=_title(name), filters=f, ask=ask, total=len(found), counts=counts,
        items=items, page=page, pages=pages, rules=RULES, lists=[(n, _title(n)) for n in LISTS],
        week_start=local_week_start(), form=RaiseTasksForm(),
        raise_rule=(ask.rule if name == "flags" and ask.rule in RAISABLE else "duplicates" if name == "duplicates"
                    else None))


@bp.route("/lists/<name>.<fmt>")
@requires("export")
@writes_on_get
def export(name: str, fmt: str) -> Any:
    if name not in LISTS:
        abort(404)
    f = filters()
    ask = _ask(f.cell_ids)
    found = run_list(name, ask)
    title = _title(name) + (f" · {RULES[ask.rule].title(lang())}" if ask.rule else "")
    return send_export(fmt, title, f"report-{name}", [(_title(name), row_table(rows(found)))],
                       report=name, rule=ask.rule, kind=ask.kind, filters=f.describe())


@bp.route("/tasks", methods=["POST"])
@requires("admin")
def raise_() -> Any:
    """The centre turns findings into work: conflicts for duplicates, tasks for the cells."""
    form = RaiseTasksForm()
    rule = form.rule.data if form.validate_on_submit() else None
    if rule not in RAISABLE:
        flash(_("Nothing to raise for this list."), "error")
        return redirect(url_for("reports.index"))
    flags = run_list("flags", Ask(db.session, local_today(), local_week_start(), rule_settings(),
                                  current_scope().cell_ids, rule=rule))
    if rule == "duplicates":
        flags = [fl for fl in flags if fl.kind in CONFLICT_KINDS]
    raised = raise_tasks(db.session, flags, current_user.id)
    audit.record("raise_tasks", "rule", rule, conflicts=raised.conflicts, tasks=raised.tasks, skipped=raised.skipped)
    db.session.commit()
    flash(_("Raised %(conflicts)d conflicts and %(tasks)d tasks; %(skipped)d were raised before.",
            conflicts=raised.conflicts, tasks=raised.tasks, skipped=raised.skipped), "ok")
    target = "duplicates" if rule == "duplicates" else "flags"
    return redirect(url_for("reports.show", name=target, **({"rule": rule} if target == "flags" else {})))


@bp.route("/houses/<uuid:house_id>/residence-check", methods=["POST"])
@requires("edit")
def residence_check(house_id: uuid.UUID) -> Any:
    """The committee records what it found about a house as a legal stable residence."""
    house = db.get_or_404(House, house_id)
    require_cell(house.cell_id)
    form = ResidenceCheckForm()
    back = redirect(url_for("console.house", house_id=house_id) + "#residence")
    if not form.validate_on_submit():
        flash(_("Choose the result of the check."), "error")
        return back
    verdict = residence_verdict(Context(db.session, rule_settings(), local_today()), house_id)
    check = ResidenceCheck(house_id=house_id, result=form.result.data, note=(form.note.data or "").strip() or None,
                           reasons=[f"{zh} / {en}" for zh, en in verdict.reasons], checked_by_id=current_user.id)
    db.session.add(check)
    db.session.flush()
    audit.record("residence_check", "house", house_id, result=check.result, reasons=len(verdict.reasons))
    db.session.commit()
    flash(_("Check recorded."), "ok")
    return back
