"""The task queue (待办): tasks about houses in the user's cells, filtered by assignee,
overdue and escalated; closing them, and (grid lead and above) reassigning or moving the
due date."""
from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp import audit
from webapp.access import current_scope, requires
from webapp.extensions import db
from webapp.models import Task, User, cell_coordinator
from webapp.models.enums import Role, TaskResult, TaskStatus
from webapp.oversight.tasks import AssignError, coordinators_of, reassign, set_due
from webapp.oversight.tasks.assign import PastDue
from webapp.registry.tasks import UNASSIGNED, TaskError, close_task, find_visible, visible_tasks
from webapp.templating import lang
from webapp.base.timeutil import local_today
from webapp.tasks import bp
from webapp.tasks.forms import AssignTaskForm, CloseTaskForm
from webapp.query_args import page_number, whole_number

PAGE_SIZE = 50
_STATUSES = {s.value for s in TaskStatus}


@bp.context_processor
def _labels() -> dict[str, Any]:
    def result_label(value: str | None) -> str:
        return TaskResult(value).label(lang()) if value in TaskResult._value2member_map_ else (value or "")
    return {"result_label": result_label}


def _filters() -> dict[str, Any]:
    """The queue's filters from the query string (404 on a value that cannot be one)."""
    status = request.args.get("status", TaskStatus.OPEN)
    if status not in _STATUSES and status != "all":
        abort(404)
    raw = request.args.get("assignee", "")
    if raw in ("", UNASSIGNED):
        assignee: int | str | None = raw or None
    elif raw == "me":
        assignee = current_user.id
    elif (number := whole_number(raw)) is not None:
        assignee = number
    else:
        abort(404)
    return {"status": status, "assignee": raw, "assignee_value": assignee,
            "overdue": request.args.get("overdue") == "1", "escalated": request.args.get("escalated") == "1"}


def _assignees(session: Session) -> list[User]:
    """Coordinators of the user's cells, for the assignee filter."""
    scope = current_scope()
    query = (select(User).join(cell_coordinator, cell_coordinator.c.user_id == User.id)
             .where(User.role == Role.COORDINATOR).distinct().order_by(User.display_name, User.id))
    if scope.cell_ids is not None:
        query = query.where(cell_coordinator.c.cell_id.in_(scope.cell_ids))
    return list(session.scalars(query))


def _coordinators_by_cell(session: Session, tasks: list[Task]) -> dict[uuid.UUID, list[User]]:
    out: dict[uuid.UUID, list[User]] = defaultdict(list)
    for cell_id in {t.cell_id for t in tasks if t.cell_id is not None}:
        out[cell_id] = coordinators_of(session, cell_id)
    return out


@bp.route("/tasks")
@login_required
def index() -> Any:
    return _queue()


def _queue(kept: dict[str, Any] | None = None, status: int = 200) -> Any:
    """The queue as filtered; `kept`: a refused close's typed values, shown again in its form."""
    f = _filters()
    page = page_number()
    today = local_today()
    query = visible_tasks(current_scope(), None if f["status"] == "all" else f["status"],
                         assignee=f["assignee_value"], overdue_on=today if f["overdue"] else None,
                         escalated=f["escalated"])
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    tasks = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    user_ids = {i for t in tasks for i in (t.assignee_id, t.reporter_id) if i is not None}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    args = {k: v for k, v in (("status", f["status"]), ("assignee", f["assignee"]),
                              ("overdue", "1" if f["overdue"] else ""), ("escalated", "1" if f["escalated"] else ""))
            if v}
    return render_template(
        "tasks/index.html", tasks=tasks, page=page, total=total, pages=max(1, -(-(total or 0) // PAGE_SIZE)),
        form=CloseTaskForm(), today=today, users=users, filters=f, args=args, assignees=_assignees(db.session),
        coordinators=_coordinators_by_cell(db.session, list(tasks)) if current_scope().may("assign") else {},
        kept=kept or {}), status


def _back() -> Any:
    # Back to the queue as the user filtered it (only the queue's own parameters).
    keep = {k: v for k, v in request.args.items() if k in ("status", "assignee", "overdue", "escalated", "page")}
    return redirect(url_for("tasks.index", **keep))


@bp.route("/tasks/<uuid:task_id>/close", methods=["POST"])
@requires("edit")
def close(task_id: uuid.UUID) -> Any:
    task = find_visible(db.session, current_scope(), task_id)
    if task is None:
        abort(404)
    form = CloseTaskForm()
    # A refused close shows the queue again with what was typed, not a redirect that lost it.
    kept = {"task": task.id, "status": form.status.data, "result": form.result.data, "outcome": form.outcome.data}
    if not form.validate_on_submit():
        flash(_("Choose a result and say what was found."), "error")
        return _queue(kept, 422)
    if form.version.data != str(task.version) or not task.is_open:
        flash(_("Someone else closed or changed this task meanwhile."), "error")
        if not task.is_open and form.outcome.data:
            # Its form is gone with it: what was typed is said here, to copy.
            flash(_("What you typed (not saved): %(text)s", text=form.outcome.data), "error")
        return _queue(kept, 409)
    try:
        close_task(task, form.status.data, form.outcome.data, current_user.id, result=form.result.data or None)
    except TaskError:
        db.session.rollback()
        flash(_("Choose a result and say what was found. Only a task closed as done can have changed the registry."),
              "error")
        return _queue(kept, 422)
    back = _back()
    audit.record("close_task", "task", task.id, status=task.status, result=task.result)
    db.session.commit()
    flash(_("Task closed."), "ok")
    return back


@bp.route("/tasks/<uuid:task_id>/assign", methods=["POST"])
@requires("assign")
def assign(task_id: uuid.UUID) -> Any:
    task = find_visible(db.session, current_scope(), task_id)
    if task is None:
        abort(404)
    form = AssignTaskForm()
    form.assignee.choices = [("", ""), *((str(u.id), u.display_name) for u in coordinators_of(db.session, task.cell_id))]
    back = _back()
    if not form.validate_on_submit():
        flash(_("Choose a coordinator of the task's cell and a due date."), "error")
        return back
    if form.version.data != str(task.version) or not task.is_open:
        flash(_("Someone else closed or changed this task meanwhile."), "error")
        return back
    assignee = int(form.assignee.data) if form.assignee.data else None
    try:
        before = reassign(db.session, task, assignee, current_user.id) if assignee != task.assignee_id else assignee
        due_before = set_due(task, form.due_on.data, current_user.id, local_today()) \
            if form.due_on.data != task.due_on else task.due_on
    except PastDue:
        db.session.rollback()
        flash(_("A due date cannot be moved to before today."), "error")
        return back
    except AssignError:
        db.session.rollback()
        flash(_("Choose a coordinator of the task's cell and a due date."), "error")
        return back
    if before != assignee:
        audit.record("reassign_task", "task", task.id, before=before, after=assignee)
    if due_before != task.due_on:
        audit.record("task_due_date", "task", task.id, before=due_before.isoformat() if due_before else None,
                     after=task.due_on.isoformat() if task.due_on else None)
    db.session.commit()
    flash(_("Task updated."), "ok")
    return back
